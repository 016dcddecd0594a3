"""Persistent database connections: DB_CONN_MAX_AGE and DB_CONN_HEALTH_CHECKS."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from awsomeshop.settings.database import DEFAULT_CONN_MAX_AGE, connection_persistence
from tests.support.markers import requires_server_db


def test_defaults_keep_connections_below_the_proxy_idle_timeout_and_check_them():
    assert connection_persistence({}) == {"CONN_MAX_AGE": DEFAULT_CONN_MAX_AGE, "CONN_HEALTH_CHECKS": True}
    assert 0 < DEFAULT_CONN_MAX_AGE < 1800


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DB_CONN_MAX_AGE": "0"}, {"CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": True}),
        (
            {"DB_CONN_MAX_AGE": "60", "DB_CONN_HEALTH_CHECKS": "false"},
            {"CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": False},
        ),
        ({"DB_CONN_HEALTH_CHECKS": "1"}, {"CONN_MAX_AGE": DEFAULT_CONN_MAX_AGE, "CONN_HEALTH_CHECKS": True}),
    ],
)
def test_settings_from_the_environment(env, expected):
    assert connection_persistence(env) == expected


@pytest.mark.parametrize(
    "env",
    [
        {"DB_CONN_MAX_AGE": "-1"},
        {"DB_CONN_MAX_AGE": "1801"},
        {"DB_CONN_MAX_AGE": "soon"},
        {"DB_CONN_HEALTH_CHECKS": "maybe"},
    ],
)
def test_nonsense_is_refused_at_start(env):
    with pytest.raises(ImproperlyConfigured):
        connection_persistence(env)


@requires_server_db
@pytest.mark.django_db
def test_a_connection_that_answered_a_moment_ago_is_not_pinged_again(monkeypatch):
    """shop.db.backends.NoReconnectAfterStall: the health check's round trip is skipped for a
    connection that answered within ANSWERED_RECENTLY_SECONDS, and made for one idle longer.
    Production's engines, on a connection of its own to the test database."""
    from django.db import connections
    from django.utils.module_loading import import_string

    from shop.db import backends

    default = connections["default"]
    engine = {"mysql": "shop.db.backends.mysql", "postgresql": "shop.db.backends.postgresql"}[default.vendor]
    wrapper = import_string(f"{engine}.base.DatabaseWrapper")
    connection = wrapper(
        {**default.settings_dict, "ENGINE": engine, "CONN_HEALTH_CHECKS": True}, "health-check"
    )
    pings: list[int] = []
    monkeypatch.setattr(wrapper, "is_usable", lambda self: pings.append(1) or True)

    def next_request() -> None:
        connection.health_check_done = False  # as Django resets it when a request starts
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    try:
        next_request()  # connects, and answers
        next_request()
        assert pings == []
        connection._answered_at -= backends.ANSWERED_RECENTLY_SECONDS + 0.1  # idle since
        next_request()
        assert pings == [1]
        next_request()
        assert pings == [1]
    finally:
        connection.close()
