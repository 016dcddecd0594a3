"""Placing an order with an idempotency key: the one sequence every client goes through.

The API (`POST /api/v1/orders/`) and the storefront's redeem form both call
`order_place_idempotent`; the key's semantics (claim in the order transaction, replay a
completed answer, store refusals so a retry replays them, free the key after a failure that
changed nothing) are described in `orders.idempotency`. The stored answer is always the API's
order body (`order_body`), whichever client placed it, so a replay looks the same everywhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from rest_framework import serializers

from catalog.images import image_url
from orders.idempotency import (
    Claim,
    KeyTaken,
    NewKey,
    RefusalNotRecorded,
    Replay,
    idempotency_claim,
    idempotency_record_failure,
    idempotency_release,
    idempotency_store_refusal,
    request_fingerprint,
)
from orders.models import Order
from orders.services import order_place
from shop.http.errors import ApplicationError, error_body
from shop.models import User

REFUSAL_NOT_RECORDED = (
    "Nothing was ordered. The connection to the database was lost while this refusal was being "
    "recorded, so a retry with the same Idempotency-Key is processed again rather than replayed."
)


@dataclass(frozen=True)
class Placement:
    """The answer to an order request: a new order's body (201), or a replayed earlier answer."""

    status: int
    body: Any
    replayed: bool


def order_place_idempotent(
    *,
    user: User,
    product_id: Any,
    quantity: int,
    key: str,
    body_for: Callable[[Order], Any],
) -> Placement:
    """Place an order under an idempotency key, or replay the key's earlier answer.

    Raises the ApplicationError of a refusal the first time it happens (a retry with the key
    replays it as a Placement with its status), and whatever a failure that changed nothing
    raises (the key is then free for a retry).
    """
    request_hash = request_fingerprint({"product_id": str(product_id), "quantity": quantity})
    stored: dict[str, Any] = {}

    def respond_and_keep(order: Order) -> Any:
        stored["body"] = body_for(order)
        return stored["body"]

    # The common case in one transaction: claim the key, order, store the response. If the
    # connection is lost during its COMMIT (503 outcome_unknown), the key's row and the order
    # were committed together or not at all, so a retry with the key replays or orders once.
    new_key = NewKey(user=user, key=key, request_hash=request_hash)
    try:
        order_place(
            user=user,
            product_id=product_id,
            quantity=quantity,
            new_key=new_key,
            response_for=respond_and_keep,
        )
    except KeyTaken:
        pass  # the key has a row: replay it, or take over an abandoned claim, below
    except ApplicationError as exc:
        if exc.status_code != 409:
            raise
        # A refusal is an answer: a retry with the same key replays it. If the key has a
        # row already, an earlier request with it answered first (its order may be what
        # left too little stock or too few points for this one): that answer is replayed.
        try:
            recorded = idempotency_store_refusal(
                new_key=new_key, status=exc.status_code, body=error_body(exc.code, exc.detail)
            )
        except RefusalNotRecorded:
            # The refusal is what happened; only its record is in doubt (see there).
            raise type(exc)(f"{exc.detail} {REFUSAL_NOT_RECORDED}", extra=exc.extra) from None
        if recorded:
            raise
    else:
        return Placement(status=201, body=stored["body"], replayed=False)

    outcome = idempotency_claim(user=user, key=key, request_hash=request_hash)
    if isinstance(outcome, Replay):
        return Placement(status=outcome.status, body=outcome.body, replayed=True)

    try:
        order_place(
            user=user,
            product_id=product_id,
            quantity=quantity,
            claim=outcome,
            response_for=respond_and_keep,
        )
    except ApplicationError as exc:
        if exc.status_code == 409 and exc.code != "idempotency_request_in_progress":
            # A refusal is an answer: a retry with the same key replays it.
            idempotency_record_failure(
                claim=outcome, status=exc.status_code, body=error_body(exc.code, exc.detail)
            )
        else:
            _release_quietly(outcome)
        raise
    except Exception:
        _release_quietly(outcome)
        raise
    return Placement(status=201, body=stored["body"], replayed=False)


def _release_quietly(claim: Claim) -> None:
    """Free the key so a retry can run. After an outcome_unknown this is still right: a
    committed order completed the record, which a release leaves alone. If the database is
    unreachable this fails too, and the claim is taken over after IDEMPOTENCY_STALE_SECONDS;
    the error the client gets is the original one."""
    with contextlib.suppress(Exception):
        idempotency_release(claim)


# One instance formats every order's created_at exactly as the API serializer's field does.
_DATETIME_FIELD = serializers.DateTimeField()


def order_body(order: Order, request: HttpRequest | None) -> dict[str, Any]:
    """The API's Order representation of a just-placed order, built directly.

    Placing an order is the hot write path and builds this once per order; the serializer
    spends more CPU constructing its fields than the order's statements cost. The result is
    JSON-ready as stored with the key and as sent. A test holds it equal to the serializer's
    (orders.apis.OrderOutputSerializer).
    """
    product = order.product
    return {
        "id": str(order.pk),
        "product": {
            "id": str(product.pk),
            "name": product.name,
            "image_url": image_url(product.image, request),
        },
        "quantity": order.quantity,
        "unit_points_cost": order.unit_points_cost,
        "points_used": order.points_used,
        "status": str(order.status),
        "created_at": _DATETIME_FIELD.to_representation(order.created_at),
        "balance_after": order.balance_after,
    }
