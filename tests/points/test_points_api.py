"""GET /api/v1/me/ and GET /api/v1/points/transactions/."""

from __future__ import annotations

import datetime as dt
import json
from unittest import mock

import pytest
from django.utils import timezone

from points.expiry import add_months
from points.models import PointsAccount
from points.services.grants import points_adjust, points_grant
from tests.points.test_expiry import clock


def test_me_returns_profile_and_balance(api, employee):
    response = api.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json() == {
        "id": str(employee.pk),
        "email": employee.email,
        "name": employee.name,
        "employee_id": employee.employee_id,
        "balance": 1000,
        "total_earned": 1000,
        "total_redeemed": 0,
        "total_expired": 0,
        "expiring_soon": None,
    }


@pytest.mark.parametrize("expiry", [False, True])
def test_me_writes_what_its_documented_serializer_would(client_for, make_user, settings, expiry):
    # The view builds its JSON without running the serializer per request; both must agree,
    # for a null employee id and for points expiring soon too.
    from points.apis import MeApi

    settings.POINTS_EXPIRY_MONTHS = 12 if expiry else 0
    user = make_user(cognito_sub="sub-doc", employee_id=None)
    # Granted 360 days ago: with expiry on, all 80 points expire within the next 30 days.
    granted_on = timezone.localdate() - dt.timedelta(days=360)
    with clock(granted_on):
        points_grant(user=user, amount=80, reason="x")
    api = client_for(user)
    with mock.patch.object(
        MeApi.OutputSerializer, "to_representation", side_effect=AssertionError("serialized per request")
    ):
        body = api.get("/api/v1/me/").json()
    account = PointsAccount.objects.get(pk=user.pk)
    documented = dict(
        MeApi.OutputSerializer(
            {
                "id": user.pk,
                "email": user.email,
                "name": user.name,
                "employee_id": None,
                "balance": account.balance,
                "total_earned": account.total_earned,
                "total_redeemed": account.total_redeemed,
                "total_expired": account.total_expired,
                "expiring_soon": {"points": 80, "date": add_months(granted_on, 12)} if expiry else None,
            }
        ).data
    )
    # The expected date is computed here from the grant, not taken from the answer under test.
    assert body == json.loads(json.dumps(documented, default=str))


@pytest.mark.parametrize("method", ["put", "patch", "post"])
def test_balance_cannot_be_written(api, employee, method):
    response = getattr(api, method)("/api/v1/me/", {"balance": 999999}, format="json")
    assert response.status_code == 405
    assert api.get("/api/v1/me/").json()["balance"] == 1000


def test_transactions_newest_first_with_signed_amounts(api, employee):
    points_adjust(user=employee, amount=-100, reason="Correction")
    results = api.get("/api/v1/points/transactions/").json()["results"]
    assert [(r["type"], r["amount"], r["balance_after"]) for r in results] == [
        ("adjusted", -100, 900),
        ("earned", 1000, 1000),
    ]
    assert results[0]["order_id"] is None


def test_transactions_filter_by_type(api, employee):
    points_adjust(user=employee, amount=-1, reason="x")
    results = api.get("/api/v1/points/transactions/?type=adjusted").json()["results"]
    assert [r["type"] for r in results] == ["adjusted"]


def test_transactions_filter_by_date_range(api, employee):
    # Ledger rows cannot be updated (a database trigger), so the old entry is written in the past.
    ten_days_ago = timezone.now() - dt.timedelta(days=10)
    with mock.patch("django.utils.timezone.now", return_value=ten_days_ago):
        points_grant(user=employee, amount=7, reason="old")
    points_grant(user=employee, amount=5, reason="recent")
    since = (timezone.now() - dt.timedelta(days=1)).date().isoformat()
    recent = api.get(f"/api/v1/points/transactions/?since={since}").json()
    assert sorted(r["amount"] for r in recent["results"]) == [5, 1000]
    until = (timezone.now() - dt.timedelta(days=5)).isoformat()
    response = api.get("/api/v1/points/transactions/", {"until": until})
    assert [r["amount"] for r in response.json()["results"]] == [7]


@pytest.mark.parametrize("query", ["type=bogus", "since=yesterday", "until=2026-13-01"])
def test_transactions_bad_filters_are_400(api, query):
    response = api.get(f"/api/v1/points/transactions/?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_transactions_only_mine(api, make_user):
    make_user(points=777)
    amounts = [r["amount"] for r in api.get("/api/v1/points/transactions/").json()["results"]]
    assert 777 not in amounts


@pytest.mark.parametrize("entries", [1, 30])
def test_transactions_query_count_is_constant(api, employee, entries, django_assert_num_queries):
    for _ in range(entries):
        points_grant(user=employee, amount=1, reason="x")
    # user by token subject, count, page
    with django_assert_num_queries(3):
        response = api.get("/api/v1/points/transactions/?page_size=100")
    assert response.status_code == 200


def test_me_query_count(api, django_assert_num_queries):
    # The employee by token subject, with the points account joined.
    with django_assert_num_queries(1):
        assert api.get("/api/v1/me/").json()["expiring_soon"] is None


def test_me_query_count_with_points_expiry(api, settings, django_assert_num_queries):
    settings.POINTS_EXPIRY_MONTHS = 12
    # The employee with the points account joined; the points expiring soon (only when points
    # expire at all).
    with django_assert_num_queries(2):
        body = api.get("/api/v1/me/").json()
    assert {"total_expired", "expiring_soon"} <= body.keys()


@pytest.mark.parametrize(
    "value",
    ["3600-03-05T03:39:17+18:19", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"],
)
def test_extreme_but_valid_datetimes_never_fail(api, value):
    response = api.get("/api/v1/points/transactions/", {"since": value})
    assert response.status_code in (200, 400)
    assert response.json().get("code") in (None, "validation_error")
