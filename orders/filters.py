"""Query filters for the order list (?status=, ?since=, ?until=)."""

from __future__ import annotations

import django_filters

from orders.models import Order
from shop.http.filters import DateOrDateTimeFilter


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Order.Status.choices)
    since = DateOrDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = DateOrDateTimeFilter(field_name="created_at", lookup_expr="lte", end_of_day=True)

    class Meta:
        model = Order
        fields = ["status", "since", "until"]
