"""Simultaneous first company sign-ins of one HR person make one account with the role once."""

from __future__ import annotations

import uuid

import pytest

from points.models import PointsAccount
from shop.access.admin_sign_in.services import hr_user_sign_in
from shop.auth.verifier import Claims
from shop.models import User
from tests.admin.test_browser import _hr_group
from tests.support.markers import requires_server_db
from tests.support.threads import run_at_once


def _claims(email: str, sub: str) -> Claims:
    raw = {"sub": sub, "email": email, "email_verified": True, "cognito:groups": ["hr"], "token_use": "id"}
    return Claims(
        sub=sub, token_use="id", email=email, email_verified=True, name="Racer", employee_id=None, raw=raw
    )


@requires_server_db
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_eight_simultaneous_first_sign_ins_make_one_hr_account():
    group = _hr_group()  # transactional tests flush the migration's group
    # Several rounds, because which of the threads' interleavings happens is up to the server.
    for _ in range(5):
        email, sub = f"hr-{uuid.uuid4().hex[:8]}@example.com", str(uuid.uuid4())
        claims = _claims(email, sub)

        results = run_at_once(8, lambda i, claims=claims: hr_user_sign_in(claims=claims, hr_group="hr"))

        assert all(isinstance(r, User) for r in results), results
        user = User.objects.get(email=email)
        assert {r.pk for r in results} == {user.pk}
        assert user.is_staff and user.cognito_sub == sub
        assert list(user.groups.all()) == [group]
        assert PointsAccount.objects.filter(user=user).count() == 1
