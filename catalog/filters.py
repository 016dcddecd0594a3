"""Query filters for the product list."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema_field

from catalog.models import Category, Product
from shop.http.filters import StrictBooleanFilter, StrictIntegerFilter
from shop.models import User


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 200})
class SearchTextFilter(django_filters.CharFilter):
    """Free text, 1 to 200 characters (the schema states the form field's limit)."""


class ProductFilter(django_filters.FilterSet):
    category = django_filters.ModelChoiceFilter(
        field_name="category",
        to_field_name="slug",
        queryset=Category.objects.all(),
        help_text="A category slug. A slug no category has is refused with 400 validation_error.",
    )
    search = SearchTextFilter(
        method="filter_search",
        max_length=200,
        help_text="Words in the name or description: every word, in any order.",
    )
    min_cost = StrictIntegerFilter(field_name="points_cost", lookup_expr="gte")
    max_cost = StrictIntegerFilter(field_name="points_cost", lookup_expr="lte")
    in_stock = StrictBooleanFilter(method="filter_in_stock")
    affordable = StrictBooleanFilter(method="filter_affordable", help_text="Cost at most my balance.")
    ordering = django_filters.OrderingFilter(
        fields=(("points_cost", "points_cost"), ("name", "name"), ("created_at", "created_at")),
    )

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_search(self, qs: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        """Each word in the name or the description, in any order: "set coffee" finds the
        "Pour-Over Coffee Set" that the phrase alone missed. One word behaves as before."""
        for word in dict.fromkeys(value.split()):  # in order, each once
            qs = qs.filter(Q(name__icontains=word) | Q(description__icontains=word))
        return qs

    def filter_in_stock(self, qs: QuerySet[Product], name: str, value: Any) -> QuerySet[Product]:
        if value is None:
            return qs
        return qs.filter(stock__gt=0) if value else qs.filter(stock=0)

    def filter_affordable(self, qs: QuerySet[Product], name: str, value: Any) -> QuerySet[Product]:
        if value is None:
            return qs
        # A subquery through the user's reverse relation: catalog reads the balance without
        # importing the points app (the import graph runs one way).
        balance = User.objects.filter(pk=self.request.user.pk).values("points_account__balance")
        return qs.filter(points_cost__lte=balance) if value else qs.filter(points_cost__gt=balance)
