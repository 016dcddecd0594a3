"""Reads of the catalog: what employees may see is active products only."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Subquery

from catalog.models import CatalogVersion, Category, Product


def category_list() -> QuerySet[Category]:
    return Category.objects.annotate(
        product_count=Count("products", filter=Q(products__is_active=True))
    ).order_by("name")


def category_list_with_version() -> tuple[Sequence[Category], str | None]:
    """``category_list()`` and the catalog version token, read in one statement (one snapshot),
    for callers that keep the list until the token changes (storefront.listing)."""
    token = CatalogVersion.objects.filter(pk=1).values("token")[:1]
    categories = list(category_list().annotate(catalog_token=Subquery(token)))
    if not categories:
        return categories, catalog_version_token()
    return categories, categories[0].catalog_token


def product_list_visible() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True).select_related("category").order_by("name", "id")


LOW_STOCK_THRESHOLD = 5


def products_low_stock(*, threshold: int = LOW_STOCK_THRESHOLD, limit: int = 20) -> QuerySet[Product]:
    """Active products that will soon run out (or have), fewest first."""
    return Product.objects.filter(is_active=True, stock__lte=threshold).order_by("stock", "name")[:limit]


def catalog_version_token() -> str | None:
    return CatalogVersion.objects.filter(pk=1).values_list("token", flat=True).first()


@functools.lru_cache(maxsize=512)
def _api_ids_by_db_id(product_ids: tuple[str, ...], vendor: str) -> Mapping[Any, str]:
    """The database's form of each id (a UUID, or 32 hex digits on MySQL) back to the API's.

    Kept per page's ids (and database vendor, which decides the form): the same cached pages ask
    for the same ids on every request, and parsing and converting them was a tenth of the
    request. Callers only read the mapping.
    """
    pk = Product._meta.pk
    assert pk is not None
    return {pk.get_db_prep_value(uuid.UUID(i), connection): i for i in product_ids}


def product_stock_with_version(*, product_ids: Sequence[str]) -> tuple[dict[str, int], str | None]:
    """Live stock of these products and the catalog version, read in one statement (so one
    snapshot): what a cached product page needs to be served as if it were built now.

    Written as SQL because it runs on every cached page view and the ORM's query building
    was most of its cost (bench/RESULTS.md); it reads two columns and joins nothing.
    """
    rows, token = _columns_with_version(product_ids=product_ids, columns=("stock",))
    return {product_id: row[0] for product_id, row in rows.items()}, token


# What a product card shows (storefront/cards.py), and whether the product is still listed.
SHOWN_COLUMNS = ("name", "points_cost", "thumbnail", "image", "stock", "is_active")


def products_shown_with_version(
    *, product_ids: Sequence[str]
) -> tuple[dict[str, tuple[Any, ...]], str | None]:
    """Each product's ``SHOWN_COLUMNS`` (in that order) and the catalog version, in one statement:
    what a kept page of the storefront's catalog needs to be shown as if it were built now."""
    return _columns_with_version(product_ids=product_ids, columns=SHOWN_COLUMNS)


def _columns_with_version(
    *, product_ids: Sequence[str], columns: Sequence[str]
) -> tuple[dict[str, tuple[Any, ...]], str | None]:
    """``columns`` of these products by the API's form of their id, and the catalog version."""
    if not product_ids:
        return {}, catalog_version_token()
    pk = Product._meta.pk
    assert pk is not None
    api_ids = _api_ids_by_db_id(tuple(product_ids), connection.vendor)
    q = connection.ops.quote_name
    version = CatalogVersion._meta
    column = {field.name: field.column for field in Product._meta.concrete_fields}
    selected = ", ".join(q(column[name]) for name in columns)
    sql = (
        f"SELECT {q(pk.column)}, {selected}, "  # noqa: S608 (identifiers from the models, quoted)
        f"(SELECT {q('token')} FROM {q(version.db_table)} WHERE {q('id')} = %s) "
        f"FROM {q(Product._meta.db_table)} WHERE {q(pk.column)} IN ({', '.join(['%s'] * len(api_ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [1, *api_ids])
        rows = cursor.fetchall()
    if not rows:
        return {}, catalog_version_token()
    found = {}
    for db_id, *values, _ in rows:
        if isinstance(db_id, str) and db_id not in api_ids:
            db_id = pk.get_db_prep_value(uuid.UUID(db_id), connection)
        found[api_ids[db_id]] = tuple(values)
    return found, rows[0][-1]
