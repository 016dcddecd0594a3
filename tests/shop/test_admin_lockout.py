"""HR admin login: django-axes locks out a username+IP after repeated failures; IPs from our proxy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, RequestFactory

from shop.access.client_ip import client_ip
from shop.models import User

PASSWORD = "hr-Secret-Passw0rd"
ALICE_IP = "203.0.113.10"
OTHER_IP = "198.51.100.20"


@pytest.fixture
def hr_user(make_user: Any) -> User:
    return make_user(email="hr@example.com", password=PASSWORD, is_staff=True, is_superuser=True)


def _login(client: Client, password: str, **meta: str) -> Any:
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "hr@example.com", "password": password, "next": "/admin/"},
        **meta,
    )


def _fail_until_locked(settings: Any, **meta: str) -> None:
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        response = _login(Client(), "wrong-password", **meta)
        assert response.status_code in (200, 429), (attempt, response.status_code)


def test_correct_password_logs_in(db, hr_user):
    response = _login(Client(), PASSWORD, REMOTE_ADDR=ALICE_IP)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_repeated_failures_lock_out_that_user_from_that_ip_even_with_the_right_password(
    db, hr_user, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(Client(), "wrong-password", REMOTE_ADDR=ALICE_IP).status_code == 200
    assert _login(Client(), "wrong-password", REMOTE_ADDR=ALICE_IP).status_code == 429
    client = Client()
    response = _login(client, PASSWORD, REMOTE_ADDR=ALICE_IP)
    assert response.status_code == 429
    assert client.get("/admin/", REMOTE_ADDR=ALICE_IP).status_code == 302  # still not signed in


def test_lockout_is_per_user_and_ip_combination(db, hr_user, settings):
    _fail_until_locked(settings, REMOTE_ADDR=ALICE_IP)
    assert _login(Client(), PASSWORD, REMOTE_ADDR=ALICE_IP).status_code == 429
    # Someone failing from elsewhere cannot lock HR out of their own desk, and vice versa.
    assert _login(Client(), PASSWORD, REMOTE_ADDR=OTHER_IP).status_code == 302


def test_changing_the_case_of_the_username_does_not_reset_the_count(db, hr_user, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        spelling = "hr@example.com".upper() if i % 2 else "Hr@Example.com"
        Client().post("/admin/login/", {"username": spelling, "password": "wrong"}, REMOTE_ADDR=ALICE_IP)
    assert _login(Client(), PASSWORD, REMOTE_ADDR=ALICE_IP).status_code == 429


@pytest.mark.parametrize(
    "command",
    [("axes_reset",), ("axes_reset_username", "hr@example.com"), ("axes_reset_ip", ALICE_IP)],
    ids=["everyone", "by-username", "by-ip"],
)
def test_axes_reset_commands_unlock(db, hr_user, settings, command):
    _fail_until_locked(settings, REMOTE_ADDR=ALICE_IP)
    assert _login(Client(), PASSWORD, REMOTE_ADDR=ALICE_IP).status_code == 429
    call_command(*command)
    assert _login(Client(), PASSWORD, REMOTE_ADDR=ALICE_IP).status_code == 302


def test_forged_forwarded_for_does_not_escape_the_lockout_behind_one_proxy(db, hr_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    alb = {"REMOTE_ADDR": "10.0.5.5"}
    for i in range(settings.AXES_FAILURE_LIMIT):
        # The attacker writes a new address each time; the ALB appends the real one.
        _login(Client(), "wrong-password", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, {ALICE_IP}", **alb)
    response = _login(Client(), PASSWORD, HTTP_X_FORWARDED_FOR=f"192.0.2.99, {ALICE_IP}", **alb)
    assert response.status_code == 429
    assert _login(Client(), PASSWORD, HTTP_X_FORWARDED_FOR=OTHER_IP, **alb).status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "remote", "expected"),
    [
        (0, "203.0.113.10", "198.51.100.20", "198.51.100.20"),  # no proxy: the header is ignored
        (1, "203.0.113.10", "10.0.5.5", "203.0.113.10"),
        (1, "192.0.2.1, 203.0.113.10", "10.0.5.5", "203.0.113.10"),  # forged left part ignored
        (2, "192.0.2.1, 203.0.113.10, 10.0.9.9", "10.0.5.5", "203.0.113.10"),
        (1, "", "10.0.5.5", "10.0.5.5"),  # came straight to the container
        (2, "203.0.113.10", "10.0.5.5", "10.0.5.5"),  # fewer hops than proxies: not trusted
        (1, "not-an-ip", "10.0.5.5", "10.0.5.5"),
        (1, "2001:db8::1", "10.0.5.5", "2001:db8::1"),
    ],
)
def test_client_ip_trusts_only_the_configured_number_of_proxies(
    settings, proxies, forwarded, remote, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    meta = {"REMOTE_ADDR": remote}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_ip(RequestFactory().get("/", **meta)) == expected


def test_logins_without_a_request_still_work_and_are_not_counted(db, hr_user, settings):
    # Django's test client (and scripts) authenticate with no request: nothing to count.
    assert Client().login(username="hr@example.com", password=PASSWORD)
    assert not Client().login(username="hr@example.com", password="wrong")
    from axes.models import AccessAttempt

    assert not AccessAttempt.objects.exists()


def test_the_lockout_page_is_in_the_admins_look_with_its_duration_and_a_way_back(db, hr_user, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)
    _fail_until_locked(settings, REMOTE_ADDR=ALICE_IP)
    response = _login(Client(), PASSWORD, REMOTE_ADDR=ALICE_IP)
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "AWSomeShop administration" in body  # the admin's header and stylesheet
    assert "unfold/css/styles.css" in body and "hr/back-office.css" in body
    assert "locked for 30 minutes" in body
    assert f"({settings.AXES_FAILURE_LIMIT})" in body
    assert 'href="/admin/login/"' in body and "Back to the sign-in page" in body
