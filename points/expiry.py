"""Points expiry: which points expire when, computed from the ledger alone.

The policy (``POINTS_EXPIRY_MONTHS``; 0, the default, means points never expire):

- Points expire that many months after the entry that brought them: a grant, or an HR
  adjustment that adds points. A grant on 15 January with 12 months expires on 15 January of
  the next year (the 31st of a month becomes the last day of a shorter month).
- Spending uses the oldest points first: a redemption, a deduction and an expiry each take
  points from the lots that expire soonest.
- A refund gives back exactly the points its order took, each with the expiry date it had. A
  refund cannot make points live longer than their grant said; points whose date passed
  while they were spent expire at the next run.
- Points expire when ``expire_points`` runs for a date on or after their expiry date: it
  writes one ``expired`` entry per account with the total. Until then they can be spent.

Nothing but the ledger is the truth: the lots are rebuilt from an account's entries in order
(the reports keep the result per account, ``ExpiryLots``, only while its entries are the same),
so a point can neither expire twice (an ``expired`` entry consumes the lots it expired, and a
second run for the same date finds nothing due) nor never (every credit is a lot with a date,
and the lots always add up to the balance).
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

EARNED, REDEEMED, REFUNDED, ADJUSTED, EXPIRED = "earned", "redeemed", "refunded", "adjusted", "expired"


def expiry_months() -> int:
    return int(getattr(settings, "POINTS_EXPIRY_MONTHS", 0) or 0)


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()


@dataclass(order=True)
class Lot:
    expires_on: dt.date
    points: int = field(compare=False)


@dataclass
class Lots:
    """An account's unspent points, by expiry date (soonest first)."""

    lots: list[Lot] = field(default_factory=list)

    def add(self, expires_on: dt.date, points: int) -> None:
        if points > 0:
            bisect.insort(self.lots, Lot(expires_on, points))

    def take(self, points: int) -> list[tuple[dt.date, int]]:
        """Consume the soonest-expiring points; returns what was taken, by date."""
        taken: list[tuple[dt.date, int]] = []
        while points > 0 and self.lots:
            lot = self.lots[0]
            used = min(points, lot.points)
            taken.append((lot.expires_on, used))
            lot.points -= used
            points -= used
            if lot.points == 0:
                self.lots.pop(0)
        return taken

    def due(self, as_of: dt.date) -> int:
        return sum(lot.points for lot in self.lots if lot.expires_on <= as_of)

    def upcoming(self, after: dt.date, until: dt.date) -> tuple[int, dt.date | None]:
        """Points expiring after ``after`` up to and including ``until``, and the first date."""
        window = [lot for lot in self.lots if after < lot.expires_on <= until]
        return sum(lot.points for lot in window), (window[0].expires_on if window else None)

    @property
    def total(self) -> int:
        return sum(lot.points for lot in self.lots)

    def as_json(self) -> list[list[Any]]:
        """``[[ISO date, points], ...]``, soonest first, one item per date (``ExpiryLots.lots``)."""
        merged: list[list[Any]] = []
        for lot in self.lots:
            day = lot.expires_on.isoformat()
            if merged and merged[-1][0] == day:
                merged[-1][1] += lot.points
            else:
                merged.append([day, lot.points])
        return merged


def lots_from_entries(entries: Iterable[dict[str, Any]], *, months: int) -> Lots:
    """Replay ledger entries (oldest first: ``type``, ``amount``, ``created_at``, ``order_id``)."""
    lots = Lots()
    taken_by_order: dict[Any, list[tuple[dt.date, int]]] = {}
    # The reports replay many thousands of entries: the time zone is looked up once, not per
    # entry, and each day's expiry date is computed once.
    zone = timezone.get_current_timezone()
    expiry_of: dict[dt.date, dt.date] = {}
    for entry in entries:
        kind, amount = entry["type"], entry["amount"]
        if kind == EARNED or (kind == ADJUSTED and amount > 0):
            moment = entry["created_at"]
            day = moment.astimezone(zone).date() if timezone.is_aware(moment) else moment.date()
            expires_on = expiry_of.get(day)
            if expires_on is None:
                expires_on = expiry_of[day] = add_months(day, months)
            lots.add(expires_on, amount)
        elif kind == REDEEMED:
            taken_by_order[entry["order_id"]] = lots.take(-amount)
        elif kind == REFUNDED:
            returned = taken_by_order.pop(entry["order_id"], None)
            if returned is None or sum(p for _, p in returned) != amount:
                # Not seen being spent (cannot happen in a consistent ledger): a fresh lot.
                returned = [(add_months(local_date(entry["created_at"]), months), amount)]
            for expires_on, points in returned:
                lots.add(expires_on, points)
        else:  # a deduction or an expiry
            lots.take(-amount)
    return lots


ENTRY_FIELDS = ("type", "amount", "created_at", "order_id")
