"""Reads of the catalog: what employees may see is active products only."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from catalog.models import Category, Product


def category_list() -> QuerySet[Category]:
    return Category.objects.annotate(
        product_count=Count("products", filter=Q(products__is_active=True))
    ).order_by("name")


def product_list_visible() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True).select_related("category").order_by("name", "id")


LOW_STOCK_THRESHOLD = 5


def products_low_stock(*, threshold: int = LOW_STOCK_THRESHOLD, limit: int = 20) -> QuerySet[Product]:
    """Active products that will soon run out (or have), fewest first."""
    return Product.objects.filter(is_active=True, stock__lte=threshold).order_by("stock", "name")[:limit]
