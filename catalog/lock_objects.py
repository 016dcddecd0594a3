"""Row locks for products. Lock order (see points.lock_objects): accounts, then products."""

from __future__ import annotations

from typing import Any

from catalog.models import Product
from shop.db.transactions import lock_one


def product_for_update(product_id: Any) -> Product:
    # Every order locks one product: a statement made once (shop.db.transactions.lock_one), not per call.
    product = lock_one(Product, "id", product_id)
    if product is None:
        raise Product.DoesNotExist(f"No product {product_id}.")
    return product
