"""One way to write numbers and dates on every storefront page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import ngettext

from storefront import cards

register = template.Library()


@register.filter
def number(value: int | None) -> str:
    """1234567 -> "1,234,567" (a minus sign kept)."""
    if value is None:
        return ""
    return f"{int(value):,}"


@register.filter
def points(value: int | None) -> str:
    """1234 -> "1,234 points", 1 -> "1 point"."""
    if value is None:
        return ""
    amount = int(value)
    return ngettext("%(n)s point", "%(n)s points", abs(amount)) % {"n": f"{amount:,}"}


@register.filter
def signed_points(value: int) -> str:
    """A ledger amount with its sign: "+500", or U+2212 before 250 (a true minus sign, read as "minus")."""
    amount = int(value)
    return f"+{amount:,}" if amount > 0 else f"\u2212{abs(amount):,}" if amount < 0 else "0"


@register.filter
def day(value: dt.date | dt.datetime | None) -> str:
    """6 Dec 2026."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value)
    return date_format(value, "j M Y")


@register.filter
def moment(value: dt.datetime | None) -> str:
    """6 Dec 2026, 17:08."""
    if value is None:
        return ""
    return date_format(timezone.localtime(value), "j M Y, H:i")


@register.simple_tag
def product_cards(products: Any) -> SafeString:
    """The product cards of a grid (storefront/cards.py keeps each card's rendering)."""
    return cards.product_cards(products)
