"""First sign-in races: many first requests from one new identity make exactly one employee."""

from __future__ import annotations

import uuid

import pytest

from points.models import PointsAccount
from shop.auth.local_issuer import get_local_issuer
from shop.models import User
from tests.conftest import CheckedClient
from tests.support.markers import requires_server_db
from tests.support.threads import run_at_once


def _me_status(token: str) -> int:
    return CheckedClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


@requires_server_db
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_twenty_first_requests_from_a_new_user_create_one_employee_and_one_account(record_figure, settings):
    settings.EMPLOYEE_PROVISIONING = "jit"
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    token = get_local_issuer().issue(email=email, name="New Racer", employee_id=f"N-{uuid.uuid4().hex[:6]}")
    statuses = run_at_once(20, lambda i: _me_status(token))
    record_figure(f"ID-token provisioning race, 20 threads: statuses {sorted(set(map(str, statuses)))}")
    assert statuses == [200] * 20
    assert User.objects.filter(email=email).count() == 1
    user = User.objects.get(email=email)
    assert PointsAccount.objects.filter(user=user).count() == 1


@requires_server_db
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_twenty_first_requests_link_the_hr_registered_employee_once(record_figure):
    from tests.factories import UserFactory

    email = f"hr-{uuid.uuid4().hex[:8]}@example.com"
    registered = UserFactory(email=email, points=40)
    token = get_local_issuer().issue(email=email, sub=f"sub-{uuid.uuid4()}")
    statuses = run_at_once(20, lambda i: _me_status(token))
    assert statuses == [200] * 20
    assert User.objects.filter(email=email).count() == 1
    registered.refresh_from_db()
    assert registered.cognito_sub is not None
    assert PointsAccount.objects.get(user=registered).balance == 40


@pytest.mark.django_db(transaction=True)
def test_sequential_first_requests_create_one_employee(db, settings):
    """The same property without contention, so SQLite runs check it too."""
    settings.EMPLOYEE_PROVISIONING = "jit"
    email = f"seq-{uuid.uuid4().hex[:8]}@example.com"
    token = get_local_issuer().issue(email=email)
    assert [_me_status(token) for _ in range(3)] == [200, 200, 200]
    assert User.objects.filter(email=email).count() == 1
    assert PointsAccount.objects.filter(user__email=email).count() == 1
