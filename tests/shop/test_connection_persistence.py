"""Persistent database connections: DB_CONN_MAX_AGE and DB_CONN_HEALTH_CHECKS."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from awsomeshop.settings.database import DEFAULT_CONN_MAX_AGE, connection_persistence


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
