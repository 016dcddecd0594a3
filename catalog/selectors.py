"""Reads of the catalog: what employees may see is active products only."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Count, Q, QuerySet, Subquery

from catalog.models import CatalogVersion, Category, Product


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


def catalog_version_token() -> str | None:
    return CatalogVersion.objects.filter(pk=1).values_list("token", flat=True).first()


def product_stock_with_version(*, product_ids: Sequence[str]) -> tuple[dict[str, int], str | None]:
    """Live stock of these products and the catalog version, read in one statement (so one
    snapshot): what a cached product page needs to be served as if it were built now."""
    if not product_ids:
        return {}, catalog_version_token()
    rows = list(
        Product.objects.filter(pk__in=product_ids)
        .annotate(version=Subquery(CatalogVersion.objects.filter(pk=1).values("token")[:1]))
        .values_list("pk", "stock", "version")
        .order_by()  # the model's default ordering would make the database sort for nothing
    )
    if not rows:
        return {}, catalog_version_token()
    return {str(pk): stock for pk, stock, _ in rows}, rows[0][2]
