"""Cached product pages are invalidated by every write path: services, the admin's forms and
anything else that saves a product or category goes through these receivers."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.models import Category, Product
from catalog.services import STOCK_FIELDS, catalog_version_bump

# stock_apply writes exactly these (without the save signals) and bumps the version itself,
# only when stock crosses zero; any other stock-only save is ignored here the same way.
_STOCK_ONLY = frozenset(STOCK_FIELDS)


@receiver(post_save, sender=Product, dispatch_uid="catalog_product_saved")
def _product_saved(*, update_fields: Any = None, **kwargs: Any) -> None:
    if update_fields is not None and frozenset(update_fields) <= _STOCK_ONLY:
        return
    catalog_version_bump()


@receiver(post_delete, sender=Product, dispatch_uid="catalog_product_deleted")
@receiver(post_save, sender=Category, dispatch_uid="catalog_category_saved")
@receiver(post_delete, sender=Category, dispatch_uid="catalog_category_deleted")
def _catalog_changed(**kwargs: Any) -> None:
    catalog_version_bump()
