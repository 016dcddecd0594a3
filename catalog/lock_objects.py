"""Row locks for products. Lock order (see points.lock_objects): accounts, then products."""

from __future__ import annotations

from typing import Any

from catalog.models import Product


def product_for_update(product_id: Any) -> Product:
    return Product.objects.select_for_update().get(pk=product_id)
