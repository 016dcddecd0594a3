"""Server-rendered SVG charts for the admin dashboard: no JavaScript, nothing fetched."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

GRANTED_COLOUR = "#417690"
REDEEMED_COLOUR = "#e5a33d"
# A bar for a non-zero figure is never shorter than this (px): one large grant would otherwise
# scale a week's redemptions down to nothing. The exact figure is in each bar's tooltip.
MIN_BAR_HEIGHT = 3.0


class WeekFlow(Protocol):
    """One week's bar pair; the points app's selector rows have this shape (shop imports none)."""

    @property
    def key(self) -> dt.date: ...  # the week's first day
    @property
    def granted(self) -> int: ...
    @property
    def redeemed(self) -> int: ...


def weekly_flows_svg(flows: Sequence[WeekFlow], *, width: int = 720, height: int = 240) -> SafeString:
    """Grouped bars: points granted vs redeemed per week, with a y-axis maximum and week labels."""
    left, bottom, top = 56, 28, 16
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max([1, *(max(f.granted, f.redeemed) for f in flows)])
    slot = plot_w / max(1, len(flows))
    bar = max(2.0, slot * 0.36)
    bars = []
    labels = []
    for i, flow in enumerate(flows):
        x = left + i * slot + slot * 0.1
        for j, (value, colour, name) in enumerate(
            ((flow.granted, GRANTED_COLOUR, "granted"), (flow.redeemed, REDEEMED_COLOUR, "redeemed"))
        ):
            h = plot_h * value / peak
            if value > 0:
                h = max(h, MIN_BAR_HEIGHT)
            bars.append(
                (
                    f"{x + j * bar:.1f}",
                    f"{top + plot_h - h:.1f}",
                    f"{bar:.1f}",
                    f"{h:.1f}",
                    colour,
                    name,
                    f"Week of {flow.key:%d %b}: {value:,} points {name}",
                )
            )
        labels.append((f"{x + bar:.1f}", str(height - 8), f"{flow.key:%d %b}"))
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" id="points-chart" width="{w}" height="{h}" '
        'viewBox="0 0 {w} {h}" aria-label="Points granted and redeemed per week">'
        '<line x1="{l}" y1="{base}" x2="{w}" y2="{base}" stroke="#999"/>'
        '<text x="{lx}" y="{ty}" font-size="11" text-anchor="end" fill="currentColor">{peak}</text>'
        '<text x="{lx}" y="{base}" font-size="11" text-anchor="end" fill="currentColor">0</text>'
        "{bars}{labels}</svg>",
        w=width,
        h=height,
        l=left,
        lx=left - 6,
        ty=top + 10,
        base=top + plot_h,
        peak=f"{peak:,}",
        bars=format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" class="bar-{}"><title>{}</title></rect>',
            bars,
        ),
        labels=format_html_join(
            "",
            '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="currentColor">{}</text>',
            labels,
        ),
    )
