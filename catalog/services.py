"""Writes to the catalog. Stock changes only here, each with a StockMovement row."""

from __future__ import annotations

import uuid

from django.db import transaction

from catalog.lock_objects import product_for_update
from catalog.models import CatalogVersion, Product, StockMovement
from shop.admin_kit.repeats import EarlierChange, check_repeat, repeat_since, when
from shop.db.transactions import HR_OUTCOME_UNKNOWN, atomic_with_known_outcome, insert_new, save_fields
from shop.http.errors import ApplicationError, OutOfStock
from shop.models import User

# What stock_apply writes to a product row; catalog.signals ignores saves of only these.
STOCK_FIELDS = ("stock", "updated_at")


class InvalidStockChange(ApplicationError):
    status_code = 400
    code = "validation_error"
    default_detail = "The stock change is not valid."


def stock_apply(
    *,
    product: Product,
    delta: int,
    reason: str,
    note: str = "",
    order_id: uuid.UUID | None = None,
    created_by: User | None = None,
) -> StockMovement:
    """Change a locked product's stock by `delta`; the caller holds the row lock."""
    if delta == 0:
        raise InvalidStockChange("The stock change must not be zero.")
    if product.stock + delta < 0:
        raise OutOfStock()
    was_in_stock = product.stock > 0
    product.stock += delta
    # The product's one save receiver (catalog.signals) ignores a stock-only save: the bump
    # below is the cache's only concern here. So the row is written without the save signals,
    # from a statement made once; a test holds the receivers to that one.
    save_fields(product, list(STOCK_FIELDS), send_signals=False)
    if was_in_stock != (product.stock > 0):
        # Stock levels are read live beside a cached product page, but which products match
        # ?in_stock= (and so the page's rows and count) changes only here.
        catalog_version_bump()
    movement = StockMovement(
        product=product,
        delta=delta,
        stock_after=product.stock,
        reason=reason,
        note=note[:255],
        order_id=order_id,
        created_by=created_by,
    )
    insert_new(movement)  # as .objects.create() writes it, from a statement made once
    return movement


def product_stock_adjust(
    *,
    product_id: object,
    delta: int,
    reason: str,
    note: str,
    changed_by: User | None,
    confirm_repeat_of: str | None = None,
) -> StockMovement:
    """HR restock or correction. `confirm_repeat_of` ("" or the token HR confirmed) refuses the
    same change (units, reason, note) made within the repeat window unless HR confirmed that one
    (shop.admin_kit.repeats); it is checked under the product's lock, so two tabs at once are seen in turn."""
    if reason not in (StockMovement.Reason.RESTOCK, StockMovement.Reason.CORRECTION):
        raise InvalidStockChange("Stock can be changed by hand only as a restock or a correction.")
    with atomic_with_known_outcome(HR_OUTCOME_UNKNOWN):
        product = product_for_update(product_id)
        if confirm_repeat_of is not None:
            check_repeat(_earlier_stock_change(product, delta, reason, note), confirm_repeat_of)
        return stock_apply(product=product, delta=delta, reason=reason, note=note, created_by=changed_by)


def _earlier_stock_change(product: Product, delta: int, reason: str, note: str) -> EarlierChange | None:
    move = (
        StockMovement.objects.filter(
            product=product, delta=delta, reason=reason, note=note[:255], created_at__gte=repeat_since()
        )
        .select_related("created_by")
        .order_by("-created_at")
        .first()
    )
    if move is None:
        return None
    who = move.created_by.email if move.created_by else "a script"
    return EarlierChange(
        token=f"stock:{move.pk}",
        description=(
            f"{move.delta:+,} units of {product.name} ({move.get_reason_display().lower()}, "
            f"\u201c{move.note}\u201d) by {who} at {when(move.created_at)}"
        ),
    )


def catalog_version_bump() -> None:
    """Invalidate every cached product page, in the caller's transaction.

    Called for every change to what the product list shows other than a stock level: product
    and category saves and deletes (catalog.signals) and stock reaching or leaving zero. The
    row is locked until the caller commits, after its product rows (the lock order's last step).
    """
    token = uuid.uuid4().hex
    if not CatalogVersion.objects.filter(pk=1).update(token=token):
        # The row is created by a migration; a flushed database (tests) recreates it here.
        with transaction.atomic():
            CatalogVersion.objects.update_or_create(pk=1, defaults={"token": token})
