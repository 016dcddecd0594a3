"""The error codes every protected endpoint shares: 401 without or with a bad token, 403 when
the employee is deactivated. Each response is also checked against the schema."""

from __future__ import annotations

import pytest

from tests.conftest import token_for

ENDPOINTS = [
    ("get", "/api/v1/me/"),
    ("get", "/api/v1/points/transactions/"),
    ("get", "/api/v1/categories/"),
    ("get", "/api/v1/products/"),
    ("get", "/api/v1/products/{product}/"),
    ("post", "/api/v1/orders/"),
    ("get", "/api/v1/orders/"),
    ("get", "/api/v1/orders/{order}/"),
]


@pytest.fixture
def paths(product, employee):
    from orders.services import order_place

    order = order_place(user=employee, product_id=product.pk)
    return {"product": product.pk, "order": order.pk}


def _call(client, method, path, paths, **extra):
    url = path.format(**paths)
    if method == "post":
        return client.post(
            url, {"product_id": str(paths["product"])}, format="json", HTTP_IDEMPOTENCY_KEY="k", **extra
        )
    return client.get(url, **extra)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_without_token_is_401(anon, paths, method, path):
    response = _call(anon, method, path, paths)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_with_forged_token_is_401(anon, employee, paths, method, path):
    token = token_for(employee)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = _call(anon, method, path, paths, HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_deactivated_employee_is_403(api, employee, paths, method, path):
    employee.is_active = False
    employee.save(update_fields=["is_active"])
    response = _call(api, method, path, paths)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_happy_path(api, paths, method, path):
    response = _call(api, method, path, paths)
    assert response.status_code == (201 if method == "post" else 200)
