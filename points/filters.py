"""Query filters for the ledger endpoint (?type=, ?since=, ?until=)."""

from __future__ import annotations

import django_filters

from points.models import PointsTransaction
from shop.http.filters import DateOrDateTimeFilter


class LedgerFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=PointsTransaction.Type.choices)
    since = DateOrDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = DateOrDateTimeFilter(field_name="created_at", lookup_expr="lte", end_of_day=True)

    class Meta:
        model = PointsTransaction
        fields = ["type", "since", "until"]
