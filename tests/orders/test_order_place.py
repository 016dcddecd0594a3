"""POST /api/v1/orders/: redemption, its refusals, and Idempotency-Key semantics."""

from __future__ import annotations

import uuid

import pytest

from catalog.models import Product, StockMovement
from orders.models import Order
from points.models import PointsAccount, PointsTransaction


def _order(api, product_id, quantity=None, key=None):
    body = {"product_id": str(product_id)}
    if quantity is not None:
        body["quantity"] = quantity
    # Every order carries a key (428 without one); a fresh one unless the test names it.
    key = uuid.uuid4().hex if key is None else key
    return api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _state(user, product):
    product.refresh_from_db()
    account = PointsAccount.objects.get(user=user)
    return (
        account.balance,
        product.stock,
        Order.objects.filter(user=user).count(),
        PointsTransaction.objects.filter(account=account).count(),
    )


def test_order_place_debits_points_and_stock_in_one_go(api, employee, product):
    response = _order(api, product.pk, 2)
    assert response.status_code == 201
    body = response.json()
    assert body["quantity"] == 2
    assert body["unit_points_cost"] == 300
    assert body["points_used"] == 600
    assert body["balance_after"] == 400
    assert body["status"] == "delivered"
    assert body["product"] == {"id": str(product.pk), "name": "Earbuds", "image_url": None}
    assert _state(employee, product) == (400, 3, 1, 2)
    entry = PointsTransaction.objects.get(order_id=body["id"])
    assert (entry.type, entry.amount, entry.balance_after) == ("redeemed", -600, 400)
    movement = StockMovement.objects.get(order_id=body["id"])
    assert (movement.delta, movement.stock_after, movement.reason) == (-2, 3, "order")


def test_quantity_defaults_to_one(api, product):
    assert _order(api, product.pk).json()["quantity"] == 1


def test_order_place_with_insufficient_points_changes_nothing(api, employee, product):
    product.points_cost = 600
    product.save()
    before = _state(employee, product)
    response = _order(api, product.pk, 2)
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_points"
    assert _state(employee, product) == before


def test_order_place_out_of_stock_changes_nothing(api, employee, product):
    before = _state(employee, product)
    response = _order(api, product.pk, 6)
    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert _state(employee, product) == before


def test_inactive_product_cannot_be_ordered(api, employee, product):
    Product.objects.filter(pk=product.pk).update(is_active=False)
    response = _order(api, product.pk)
    assert response.status_code == 409
    assert response.json()["code"] == "product_unavailable"
    assert Order.objects.count() == 0


def test_unknown_product_cannot_be_ordered(api, db):
    response = _order(api, uuid.uuid4())
    assert response.status_code == 409
    assert response.json()["code"] == "product_unavailable"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "product_id"),
        ({"product_id": "abc"}, "product_id"),
        ({"product_id": None}, "product_id"),
        ({"product_id": "PID", "quantity": 0}, "quantity"),
        ({"product_id": "PID", "quantity": 11}, "quantity"),
        ({"product_id": "PID", "quantity": "two"}, "quantity"),
        ({"product_id": "PID", "quantity": 1.5}, "quantity"),
        # Wrong JSON types are 400s even when the value would convert.
        ({"product_id": "PID", "quantity": "2"}, "quantity"),
        ({"product_id": "PID", "quantity": 1.0}, "quantity"),
        ({"product_id": "PID", "quantity": True}, "quantity"),
    ],
)
def test_order_place_validation_errors(api, employee, product, body, field):
    body = {k: (str(product.pk) if v == "PID" else v) for k, v in body.items()}
    before = _state(employee, product)
    response = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="validation")
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == "validation_error"
    assert field in payload["fields"]
    assert _state(employee, product) == before


def test_same_key_same_body_replays_the_first_response(api, employee, product):
    first = _order(api, product.pk, 1, key="k-1")
    second = _order(api, product.pk, 1, key="k-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert _state(employee, product) == (700, 4, 1, 2)


def test_same_key_different_body_is_422(api, employee, product):
    _order(api, product.pk, 1, key="k-2")
    response = _order(api, product.pk, 2, key="k-2")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert _state(employee, product) == (700, 4, 1, 2)


def test_keys_are_scoped_to_the_caller(api, client_for, make_user, product):
    other = make_user(points=1000, cognito_sub="sub-other")
    assert _order(api, product.pk, 1, key="shared").status_code == 201
    response = _order(client_for(other), product.pk, 1, key="shared")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


def test_a_refusal_is_replayed_too(api, employee, product):
    first = _order(api, product.pk, 6, key="k-3")
    assert first.json()["code"] == "out_of_stock"
    Product.objects.filter(pk=product.pk).update(stock=50)
    second = _order(api, product.pk, 6, key="k-3")
    assert second.status_code == 409
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"


def test_key_in_progress_is_409(api, employee, product):
    from orders.idempotency import idempotency_claim, request_fingerprint

    idempotency_claim(
        user=employee,
        key="busy",
        request_hash=request_fingerprint({"product_id": str(product.pk), "quantity": 1}),
    )
    response = _order(api, product.pk, 1, key="busy")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_request_in_progress"
    assert Order.objects.count() == 0


def test_expired_key_can_be_used_again(api, employee, product, settings):
    from orders.models import IdempotencyRecord

    _order(api, product.pk, 1, key="old")
    IdempotencyRecord.objects.update(created_at="2000-01-01T00:00:00Z")
    response = _order(api, product.pk, 1, key="old")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Order.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\tkey"])
def test_invalid_idempotency_keys_are_400(api, product, key):
    response = _order(api, product.pk, 1, key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]
    assert Order.objects.count() == 0


def test_order_without_idempotency_key_is_428_and_changes_nothing(api, employee, product):
    before = _state(employee, product)
    response = api.post("/api/v1/orders/", {"product_id": str(product.pk)}, format="json")
    assert response.status_code == 428
    assert response.json()["code"] == "idempotency_key_required"
    assert _state(employee, product) == before


def test_order_place_query_count(api, product, django_assert_num_queries):
    # token user (account joined); savepoint (BEGIN in production); account lock; product
    # lock; order insert; the key's row with its stored response, in one insert; account
    # update; ledger insert; product update; stock movement insert; the receipt into the
    # notification outbox; release (COMMIT): one transaction, and nothing grows with the data.
    # The rate limit counts outside the database here (the test cache); see tests/shop.
    with django_assert_num_queries(12):
        assert _order(api, product.pk, key="qc").status_code == 201


def test_client_cannot_set_prices_or_balances(api, employee, product):
    response = api.post(
        "/api/v1/orders/",
        {
            "product_id": str(product.pk),
            "quantity": 1,
            "unit_points_cost": 1,
            "points_used": 0,
            "balance_after": 999999,
            "balance": 999999,
            "status": "refunded",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="prices",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["unit_points_cost"], body["points_used"], body["balance_after"], body["status"]) == (
        300,
        300,
        700,
        "delivered",
    )
    assert PointsAccount.objects.get(user=employee).balance == 700


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_orders_cannot_be_changed_through_the_api(api, employee, product, method):
    order_id = _order(api, product.pk).json()["id"]
    response = getattr(api, method)(f"/api/v1/orders/{order_id}/", {"status": "refunded"}, format="json")
    assert response.status_code == 405
    assert Order.objects.get(pk=order_id).status == "delivered"


def test_a_retry_after_the_first_took_the_last_item_replays_the_order(api, employee, product):
    # The retry is refused on the locked stock before it reaches the key's row; storing that
    # refusal finds the key answered, and the first answer is replayed instead.
    Product.objects.filter(pk=product.pk).update(stock=1)
    first = _order(api, product.pk, 1, key="last-one")
    assert first.status_code == 201
    retry = _order(api, product.pk, 1, key="last-one")
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert _state(employee, product) == (700, 0, 1, 2)


def test_a_retry_after_the_first_spent_the_points_replays_the_order(api, employee, product):
    first = _order(api, product.pk, 3, key="all-in")
    assert first.status_code == 201 and first.json()["balance_after"] == 100
    retry = _order(api, product.pk, 3, key="all-in")
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert _state(employee, product) == (100, 2, 1, 2)


def test_a_refused_retry_with_another_body_is_still_422(api, employee, product):
    Product.objects.filter(pk=product.pk).update(stock=1)
    assert _order(api, product.pk, 1, key="k-4").status_code == 201
    response = _order(api, product.pk, 2, key="k-4")  # out of stock now, and another body
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


def test_the_key_row_is_written_once_completed_with_the_order(api, employee, product):
    from orders.models import IdempotencyRecord

    body = _order(api, product.pk, 2, key="one-row").json()
    record = IdempotencyRecord.objects.get()
    assert (record.state, record.response_status, str(record.order_id)) == ("completed", 201, body["id"])
    assert record.response_body == body


@pytest.mark.parametrize("with_image", [False, True])
def test_the_order_response_is_what_the_order_serializer_says(
    api, employee, product, with_image, settings, tmp_path
):
    # The order endpoint builds its answer without the serializer (orders.placement.order_body); the
    # list and detail endpoints use the serializer. They must agree field for field.
    if with_image:
        settings.MEDIA_ROOT = str(tmp_path)
        Product.objects.filter(pk=product.pk).update(image="products/earbuds.png")
    placed = _order(api, product.pk, 2).json()
    detail = api.get(f"/api/v1/orders/{placed['id']}/").json()
    assert placed == detail
    assert (placed["product"]["image_url"] is not None) == with_image
