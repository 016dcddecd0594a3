"""The session engine (awsomeshop/sessions.py) reads a session as Django's database engine does:
the same data, expired and unknown keys dropped alike, signing out ends a session everywhere."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from awsomeshop.sessions import SessionStore

pytestmark = pytest.mark.django_db


def _saved(data: dict[str, Any]) -> str:
    store = SessionStore()
    store.update(data)
    store.create()
    assert store.session_key
    return store.session_key


def test_the_project_uses_it() -> None:
    assert settings.SESSION_ENGINE == "awsomeshop.sessions"


def test_a_session_reads_back_in_one_query_as_djangos_engine_reads_it(django_assert_num_queries: Any) -> None:
    key = _saved({"cart": [1, 2], "who": "alice"})
    with django_assert_num_queries(1):
        assert SessionStore(key).load() == {"cart": [1, 2], "who": "alice"}
    assert DjangoSessionStore(key).load() == SessionStore(key).load()


@pytest.mark.parametrize("engine", [SessionStore, DjangoSessionStore])
def test_an_expired_or_unknown_session_is_empty_and_its_key_dropped(engine: type[DjangoSessionStore]) -> None:
    expired = _saved({"who": "alice"})
    Session.objects.filter(session_key=expired).update(expire_date=timezone.now() - timedelta(seconds=1))
    for key in (expired, "no-such-session-key-0123456789"):
        store = engine(key)
        assert store.load() == {}
        assert store.session_key is None  # a save makes a new key, never revives this one


def test_signing_out_ends_the_session_for_every_later_read() -> None:
    key = _saved({"who": "alice"})
    other_process = SessionStore(key)
    assert other_process.load() == {"who": "alice"}
    SessionStore(key).flush()
    assert SessionStore(key).load() == {} and not Session.objects.filter(session_key=key).exists()
