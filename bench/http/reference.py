"""Hand-written reference views: what the same work costs without the framework around it.

They exist only in the benchmark's URL configuration, never in the product's. They skip
authentication, validation, pagination, serializers and the idempotency and rate-limit
machinery on purpose: they are the floor the product's endpoints are compared with. The
redemption still writes every row the product writes (order, ledger entry, stock movement,
account and product updates) under the same row locks, so the money invariants hold after a run
and `check_ledger` can audit it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from catalog.models import Product, StockMovement
from orders.models import Order
from points.models import PointsAccount, PointsTransaction


def bare(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def _prep(model: Any, field: str, value: Any) -> Any:
    return model._meta.get_field(field).get_db_prep_value(value, connection)


_CATALOG_SQL = (
    "SELECT p.id, p.name, p.description, p.points_cost, p.stock, c.id, c.name, c.slug "
    "FROM catalog_product p LEFT JOIN catalog_category c ON c.id = p.category_id "
    "WHERE p.is_active = %s ORDER BY p.name, p.id LIMIT 20"
)


def catalog(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(_CATALOG_SQL, [True])
        rows = cursor.fetchall()
    results = [
        {
            "id": str(uuid.UUID(str(pid))),
            "name": name,
            "description": description,
            "points_cost": cost,
            "category": None
            if cid is None
            else {"id": str(uuid.UUID(str(cid))), "name": cname, "slug": slug},
            "image_url": None,
            "stock": stock,
            "in_stock": stock > 0,
        }
        for pid, name, description, cost, stock, cid, cname, slug in rows
    ]
    return JsonResponse({"results": results})


def _insert(cursor: Any, model: Any, values: dict[str, Any]) -> None:
    columns = [model._meta.get_field(name).column for name in values]
    params = [
        model._meta.get_field(name).get_db_prep_save(value, connection) for name, value in values.items()
    ]
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})",
        params,
    )


@csrf_exempt
def redeem(request: HttpRequest) -> HttpResponse:
    body = json.loads(request.body)
    user_id = uuid.UUID(request.headers["X-Bench-User"])
    product_id = uuid.UUID(body["product_id"])
    quantity = int(body.get("quantity", 1))
    now = timezone.now()
    account_pk = PointsAccount._meta.pk.column
    with transaction.atomic(), connection.cursor() as cursor:
        # The project's lock order: the account, then the product.
        cursor.execute(
            f"SELECT {account_pk}, balance FROM {PointsAccount._meta.db_table} WHERE {account_pk} = %s "
            "FOR UPDATE",
            [_prep(PointsAccount, "user", user_id)],
        )
        account_id, balance = cursor.fetchone()
        cursor.execute(
            f"SELECT points_cost, stock, is_active, name FROM {Product._meta.db_table} "
            "WHERE id = %s FOR UPDATE",
            [_prep(Product, "id", product_id)],
        )
        row = cursor.fetchone()
        if row is None or not row[2]:
            return JsonResponse({"code": "product_unavailable"}, status=409)
        cost_each, stock, _, name = row
        cost = cost_each * quantity
        if stock < quantity:
            return JsonResponse({"code": "out_of_stock"}, status=409)
        if balance < cost:
            return JsonResponse({"code": "insufficient_points"}, status=409)
        order_id = uuid.uuid4()
        _insert(
            cursor,
            Order,
            {
                "id": order_id,
                "user": user_id,
                "product": product_id,
                "quantity": quantity,
                "unit_points_cost": cost_each,
                "points_used": cost,
                "balance_after": balance - cost,
                "status": Order.Status.DELIVERED,
                "created_at": now,
                "refund_reason": "",
            },
        )
        cursor.execute(
            f"UPDATE {PointsAccount._meta.db_table} SET balance = balance - %s, "
            f"total_redeemed = total_redeemed + %s, updated_at = %s WHERE {account_pk} = %s",
            [cost, cost, _prep(PointsAccount, "updated_at", now), account_id],
        )
        _insert(
            cursor,
            PointsTransaction,
            {
                "id": uuid.uuid4(),
                "account": account_id,
                "type": PointsTransaction.Type.REDEEMED,
                "amount": -cost,
                "balance_after": balance - cost,
                "order": order_id,
                "description": f"Order: {quantity} x {name}"[:255],
                "created_by": user_id,
                "created_at": now,
            },
        )
        cursor.execute(
            f"UPDATE {Product._meta.db_table} SET stock = stock - %s, updated_at = %s WHERE id = %s",
            [quantity, _prep(Product, "updated_at", now), _prep(Product, "id", product_id)],
        )
        _insert(
            cursor,
            StockMovement,
            {
                "id": uuid.uuid4(),
                "product": product_id,
                "delta": -quantity,
                "stock_after": stock - quantity,
                "reason": StockMovement.Reason.ORDER,
                "note": "",
                "order": order_id,
                "created_by": user_id,
                "created_at": now,
            },
        )
    return JsonResponse(
        {"id": str(order_id), "points_used": cost, "balance_after": balance - cost}, status=201
    )
