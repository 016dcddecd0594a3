"""The employee lookup every API request makes: compiled once, and exactly what the ORM returns."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.db.models import Count
from django.db.models.sql.compiler import SQLCompiler

from points.models import PointsAccount
from shop.db.prepared import PreparedLookup
from shop.identity.selectors import user_get_by_cognito_sub
from shop.models import User
from tests.support.markers import requires_server_db
from tests.support.threads import run_at_once


def _orm(sub: str) -> User | None:
    return User.objects.filter(cognito_sub=sub).select_related("points_account").first()


def _fields(user: User) -> dict[str, Any]:
    return {f.attname: getattr(user, f.attname) for f in User._meta.concrete_fields}


def test_the_lookup_returns_what_the_orm_returns(make_user):
    employee = make_user(points=250, cognito_sub="sub-lookup", department="Sales")
    found = user_get_by_cognito_sub(sub="sub-lookup")
    expected = _orm("sub-lookup")
    assert found is not None and expected is not None
    assert found.pk == employee.pk
    # Same values and same Python types (UUID, bool, aware datetime), converted as the ORM does.
    assert _fields(found) == _fields(expected)
    assert {k: type(v) for k, v in _fields(found).items()} == {
        k: type(v) for k, v in _fields(expected).items()
    }
    assert found._state.db == expected._state.db and found._state.adding is False


def test_the_account_comes_with_the_user_in_one_query(make_user, django_assert_num_queries):
    make_user(points=250, cognito_sub="sub-account")
    with django_assert_num_queries(1):
        user = user_get_by_cognito_sub(sub="sub-account")
        assert user is not None
        account = user.points_account
        assert account.balance == 250
        assert account.user is user  # the reverse side is set too, as select_related does
    assert {f.attname: getattr(account, f.attname) for f in PointsAccount._meta.concrete_fields} == {
        f.attname: getattr(PointsAccount.objects.get(pk=user.pk), f.attname)
        for f in PointsAccount._meta.concrete_fields
    }


def test_a_user_without_account_is_cached_as_none_like_the_orm(db):
    # Saved directly, not through the service: an account-less record (an operations account).
    User(email="ops@example.com", name="Ops", cognito_sub="sub-ops", is_employee=False).save()
    found = user_get_by_cognito_sub(sub="sub-ops")
    assert found is not None
    assert User.points_account.related.is_cached(found)
    with pytest.raises(PointsAccount.DoesNotExist):
        _ = found.points_account


def test_an_unknown_subject_is_none(make_user):
    make_user(cognito_sub="sub-known")
    assert user_get_by_cognito_sub(sub="sub-unknown") is None
    assert user_get_by_cognito_sub(sub="") is None


def test_the_sql_is_compiled_once_and_still_runs_every_time(make_user, django_assert_num_queries):
    make_user(points=10, cognito_sub="sub-compiled")
    user_get_by_cognito_sub(sub="sub-compiled")
    with (
        mock.patch.object(SQLCompiler, "as_sql", side_effect=AssertionError("compiled again")),
        django_assert_num_queries(2),
    ):
        first = user_get_by_cognito_sub(sub="sub-compiled")
        assert user_get_by_cognito_sub(sub="sub-other") is None
    assert first is not None and first.points_account.balance == 10


def test_a_deactivation_is_seen_on_the_next_lookup(make_user):
    employee = make_user(cognito_sub="sub-leaver")
    assert user_get_by_cognito_sub(sub="sub-leaver").is_active  # type: ignore[union-attr]
    User.objects.filter(pk=employee.pk).update(is_active=False)
    assert user_get_by_cognito_sub(sub="sub-leaver").is_active is False  # type: ignore[union-attr]


def test_a_changed_setting_compiles_anew(make_user, settings, django_assert_num_queries):
    make_user(points=10, cognito_sub="sub-setting")
    user_get_by_cognito_sub(sub="sub-setting")
    settings.API_USER_SELECT_RELATED = []
    user = user_get_by_cognito_sub(sub="sub-setting")
    assert user is not None
    assert not User.points_account.related.is_cached(user)


@pytest.mark.parametrize(
    "build",
    [
        lambda v: User.objects.filter(cognito_sub=v).annotate(n=Count("direct_reports")),
        lambda v: User.objects.filter(cognito_sub=v).prefetch_related("direct_reports"),
        lambda v: User.objects.filter(cognito_sub=v).values("email"),
        lambda v: User.objects.all(),
    ],
    ids=["annotation", "prefetch", "values", "no-parameter"],
)
def test_querysets_it_cannot_reproduce_are_refused(db, build):
    with pytest.raises(ValueError):
        PreparedLookup(build).first(connection, "x")


@requires_server_db
@pytest.mark.django_db(transaction=True)
def test_threads_share_the_compiled_statement_on_their_own_connections(make_user):
    # gthread-style: compiled on this thread's connection, executed on each thread's own.
    users = [make_user(points=10 * (i + 1), cognito_sub=f"sub-thread-{i}") for i in range(4)]
    user_get_by_cognito_sub(sub="sub-thread-0")

    def look_up(i: int) -> tuple[Any, Any, int]:
        found = user_get_by_cognito_sub(sub=f"sub-thread-{i}")
        assert found is not None
        return found.pk, found.date_joined, found.points_account.balance

    results = run_at_once(4, look_up)
    assert [r[0] for r in results] == [u.pk for u in users]
    assert [r[1] for r in results] == [User.objects.get(pk=u.pk).date_joined for u in users]
    assert [r[2] for r in results] == [10, 20, 30, 40]
