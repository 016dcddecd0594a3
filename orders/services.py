"""Placing and refunding orders: the money path.

Lock order (the project's one order; see points.lock_objects): points account, product, order,
the order's idempotency record, and the catalog version row when stock reaches or leaves zero.
Rows are read under their locks and every check is made on the locked values; the debit, the
stock decrement, the order, its ledger entry and its stored idempotent response are written in
one transaction or not at all. Nothing here calls the network while a lock is held.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from catalog.lock_objects import product_for_update
from catalog.models import Product, StockMovement
from catalog.services import stock_apply
from orders.idempotency import Claim, NewKey, idempotency_complete, idempotency_insert, idempotency_lock
from orders.lock_objects import order_for_update
from orders.models import Order
from orders.signals import order_placed, order_refunded
from points.lock_objects import account_for_update
from points.models import PointsTransaction
from points.services.checks import check_not_own_account
from points.services.ledger import ledger_apply
from shop.db.transactions import HR_OUTCOME_UNKNOWN, atomic_with_known_outcome, insert_new, retry_on_conflict
from shop.http.errors import AlreadyRefunded, InsufficientPoints, OutOfStock, ProductUnavailable
from shop.models import User

MAX_QUANTITY = 10


@retry_on_conflict
def order_place(
    *,
    user: User,
    product_id: Any,
    quantity: int = 1,
    claim: Claim | None = None,
    new_key: NewKey | None = None,
    response_for: Callable[[Order], Any] | None = None,
) -> Order:
    """Redeem points for `quantity` of a product, atomically.

    With an Idempotency-Key (`new_key` to claim it here, raising KeyTaken if it has a row
    already, or a `claim` taken earlier), the response built by `response_for(order)` is
    stored in the same transaction, so a retry replays it instead of ordering again.
    """
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ValueError("quantity out of range")
    if (new_key is not None or claim is not None) and response_for is None:
        raise ValueError("an idempotency key needs the response to store")
    # A connection lost during COMMIT is OutcomeUnknown, never "nothing was changed".
    with atomic_with_known_outcome():
        # The account first: every order of one employee queues here, and so do retries with
        # one key (keys are per employee), before any of them touches the key's row.
        account = account_for_update(user.pk)
        record = idempotency_lock(claim) if claim is not None else None
        try:
            product = product_for_update(product_id)
        except Product.DoesNotExist:
            raise ProductUnavailable() from None
        if not product.is_active:
            raise ProductUnavailable()
        if product.stock < quantity:
            raise OutOfStock(
                f"Only {product.stock} left in stock." if product.stock else "This product is out of stock."
            )
        cost = product.points_cost * quantity
        if account.balance < cost:
            raise InsufficientPoints(f"This order costs {cost} points and your balance is {account.balance}.")
        order = Order(
            user=user,
            product=product,
            quantity=quantity,
            unit_points_cost=product.points_cost,
            points_used=cost,
            balance_after=account.balance - cost,
        )
        insert_new(order)
        if new_key is not None and response_for is not None:
            # The key's row is inserted with the response in one statement, after the order it
            # references. A retry with the key waited for this request's account lock above;
            # if this request committed, the retry's insert fails here (KeyTaken) and it
            # rolls back and replays; if it rolled back, the retry orders.
            idempotency_insert(new_key, status=201, body=response_for(order), order=order)
        ledger_apply(
            account=account,
            type=PointsTransaction.Type.REDEEMED,
            amount=-cost,
            description=f"Order: {quantity} x {product.name}"[:255],
            order_id=order.pk,
            created_by=user,
        )
        stock_apply(
            product=product,
            delta=-quantity,
            reason=StockMovement.Reason.ORDER,
            order_id=order.pk,
            created_by=user,
        )
        order_placed.send(sender=Order, order=order, product=product, balance_after=account.balance)
        if record is not None and response_for is not None:
            idempotency_complete(record=record, status=201, body=response_for(order), order=order)
        return order


@retry_on_conflict
def order_refund(*, order_id: Any, refunded_by: User | None, reason: str = "") -> Order:
    """Reverse an order: points back (a `refunded` ledger entry), stock back, status refunded."""
    with atomic_with_known_outcome(HR_OUTCOME_UNKNOWN):
        snapshot = Order.objects.filter(pk=order_id).values("user_id", "product_id").first()
        if snapshot is None:
            raise Order.DoesNotExist(order_id)
        # Separation of duties: an HR user's own orders are refunded by someone else.
        check_not_own_account(actor=refunded_by, user_ids=[snapshot["user_id"]], verb="refund an order to")
        account = account_for_update(snapshot["user_id"])
        product = product_for_update(snapshot["product_id"])
        order = order_for_update(order_id)
        if order.status == Order.Status.REFUNDED:
            raise AlreadyRefunded()
        ledger_apply(
            account=account,
            type=PointsTransaction.Type.REFUNDED,
            amount=order.points_used,
            description=(f"Refund of order {order.pk}" + (f": {reason}" if reason else ""))[:255],
            order_id=order.pk,
            created_by=refunded_by,
        )
        stock_apply(
            product=product,
            delta=order.quantity,
            reason=StockMovement.Reason.REFUND,
            note=reason,
            order_id=order.pk,
            created_by=refunded_by,
        )
        order.status = Order.Status.REFUNDED
        order.refunded_at = timezone.now()
        order.refunded_by = refunded_by
        order.refund_reason = reason[:255]
        order.save(update_fields=["status", "refunded_at", "refunded_by", "refund_reason"])
        order_refunded.send(sender=Order, order=order, product=product, balance_after=account.balance)
        return order
