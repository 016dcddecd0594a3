"""The session engine (awsomeshop/sessions.py) reads a session as Django's database engine does:
the same data, expired and unknown keys dropped alike, signing out ends a session everywhere.
It also keeps the signed-in user's id beside the data and reads that user in the same query."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from awsomeshop.sessions import SessionStore
from shop.models import BrowserSession
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _our_table(cls: type[DjangoSessionStore]) -> type[BrowserSession]:
    return BrowserSession


# Django's own database engine, reading and writing the table ours uses. Named SessionStore as
# both engines are, since the name is part of the data's signature (SessionBase.key_salt).
DjangoOnOurTable: type[DjangoSessionStore] = type(
    "SessionStore", (DjangoSessionStore,), {"get_model_class": classmethod(_our_table)}
)


def _saved(data: dict[str, Any]) -> str:
    store = SessionStore()
    store.update(data)
    store.create()
    assert store.session_key
    return store.session_key


def _signed_in(user: Any) -> dict[str, str]:
    return {
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: "storefront.signin.backends.StorefrontSignInBackend",
        HASH_SESSION_KEY: user.get_session_auth_hash(),
    }


def test_the_project_uses_it() -> None:
    assert settings.SESSION_ENGINE == "awsomeshop.sessions"
    assert BrowserSession.get_session_store_class() is SessionStore


def test_a_session_reads_back_in_one_query_as_djangos_engine_reads_it(django_assert_num_queries: Any) -> None:
    key = _saved({"cart": [1, 2], "who": "alice"})
    with django_assert_num_queries(1):
        assert SessionStore(key).load() == {"cart": [1, 2], "who": "alice"}
    assert DjangoOnOurTable(key).load() == SessionStore(key).load()


@pytest.mark.parametrize("engine", [SessionStore, DjangoOnOurTable])
def test_an_expired_or_unknown_session_is_empty_and_its_key_dropped(engine: type[DjangoSessionStore]) -> None:
    expired = _saved({"who": "alice"})
    BrowserSession.objects.filter(session_key=expired).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    for key in (expired, "no-such-session-key-0123456789"):
        store = engine(key)
        assert store.load() == {}
        assert store.session_key is None  # a save makes a new key, never revives this one
        assert not isinstance(store, SessionStore) or store.preloaded_user(None) is None


def test_signing_out_ends_the_session_for_every_later_read() -> None:
    key = _saved({"who": "alice"})
    other_process = SessionStore(key)
    assert other_process.load() == {"who": "alice"}
    SessionStore(key).flush()
    assert SessionStore(key).load() == {} and not BrowserSession.objects.filter(session_key=key).exists()


def test_the_signed_in_user_comes_with_the_session_in_its_one_query(django_assert_num_queries: Any) -> None:
    alice, bob = UserFactory(email="alice@example.com"), UserFactory(email="bob@example.com")
    key = _saved(_signed_in(alice))
    assert BrowserSession.objects.get(session_key=key).user_id == alice.pk

    store = SessionStore(key)
    with django_assert_num_queries(1):
        assert store[SESSION_KEY] == str(alice.pk)
        user = store.preloaded_user(str(alice.pk))
        assert user is not None and user.email == "alice@example.com"
        assert user.points_account.balance == alice.points_account.balance  # joined, no query
    assert store.preloaded_user(str(bob.pk)) is None  # only for the user the data names


def test_the_column_follows_the_data_and_a_changed_session_has_no_preloaded_user() -> None:
    alice, bob = UserFactory(email="alice@example.com"), UserFactory(email="bob@example.com")
    key = _saved(_signed_in(alice))
    store = SessionStore(key)
    store.update(_signed_in(bob))  # the same browser signs in as someone else
    assert store.preloaded_user(str(alice.pk)) is None  # the data no longer names alice
    store.save()
    assert BrowserSession.objects.get(session_key=key).user_id == bob.pk
    store.cycle_key()
    assert store.preloaded_user(str(bob.pk)) is None  # read again from the new row's query

    signed_out = SessionStore(store.session_key)
    signed_out.flush()
    anonymous = _saved({"next": "/orders/"})
    assert BrowserSession.objects.get(session_key=anonymous).user_id is None


def test_the_migration_copies_the_unexpired_sessions_with_their_users(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice = UserFactory(email="alice@example.com")
    django_store = DjangoSessionStore()
    now = timezone.now()
    rows = {
        "signed-in": _signed_in(alice),
        "anonymous": {"next": "/"},
        "gone-user": {**_signed_in(alice), SESSION_KEY: "3f9c1e00-0000-4000-8000-000000000000"},
        "expired": _signed_in(alice),
    }
    for name, data in rows.items():
        Session.objects.create(
            session_key=f"{name:<32}".replace(" ", "x"),
            session_data=django_store.encode(data),
            expire_date=now - timedelta(hours=1) if name == "expired" else now + timedelta(hours=1),
        )

    migration = importlib.import_module("shop.migrations.0007_browser_sessions")
    monkeypatch.setattr(migration, "CHUNK", 2)  # three to copy: a full chunk and a partial one
    migration.copy_signed_in_sessions(apps, None)

    copied = {s.session_key.rstrip("x"): s for s in BrowserSession.objects.all()}
    assert set(copied) == {"signed-in", "anonymous", "gone-user"}
    assert copied["signed-in"].user_id == alice.pk
    assert copied["anonymous"].user_id is None and copied["gone-user"].user_id is None
    # The copied data reads back through the new engine, still signed in.
    assert SessionStore(copied["signed-in"].session_key).load() == rows["signed-in"]
