"""HR's writes when the database connection is lost during COMMIT: HR is told the grant may
or may not have happened, never "granted" and never "nothing was changed"."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from secrets import token_urlsafe
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.urls import reverse

from points.models import PointsAccount, PointsTransaction
from points.services.grants import points_grant
from shop.http.errors import OutcomeUnknown


@contextmanager
def next_commit_lost() -> Iterator[None]:
    """The next COMMIT happens, then reports the connection as lost. Nothing is queried in
    between (PostgreSQL would open a transaction there)."""
    real_commit = connection._commit
    lost: list[int] = []

    def commit(*args: Any, **kwargs: Any) -> Any:
        real_commit(*args, **kwargs)
        if not lost:
            lost.append(1)
            raise OperationalError(2013, "Lost connection to server during query")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connection, "_commit", commit)
        yield
    assert lost, "no COMMIT happened"


@pytest.mark.django_db(transaction=True)
def test_a_grant_whose_commit_is_lost_is_outcome_unknown(make_user):
    user = make_user(points=0)
    with next_commit_lost(), pytest.raises(OutcomeUnknown, match="may or may not"):
        points_grant(user=user, amount=50, reason="bonus")
    assert PointsAccount.objects.get(user=user).balance == 50  # it did happen
    assert PointsTransaction.objects.filter(account__user=user, amount=50).count() == 1


@pytest.mark.django_db(transaction=True)
def test_hr_sees_may_or_may_not_instead_of_success(super_client, make_user):
    user = make_user(points=0)
    url = reverse("admin:shop_user_grant", args=[user.pk])
    with next_commit_lost():
        response = super_client.post(url, {"amount": 70, "reason": "bonus", "submission": token_urlsafe(32)})
    assert response.status_code == 200  # the form again, with the message; not a redirect
    body = response.content.decode()
    assert "may or may not have taken effect" in body
    assert "Granted 70 points" not in body
    assert PointsAccount.objects.get(user=user).balance == 70
