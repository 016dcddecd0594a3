"""EMPLOYEE_PROVISIONING: who becomes an employee on first sign-in, and who is refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from points.models import PointsAccount
from shop.auth.local_issuer import get_local_issuer
from shop.models import User
from tests.support.markers import requires_server_db


def _me(anon: Any, token: str) -> Any:
    return anon.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")


def _counts() -> tuple[int, int]:
    return User.objects.count(), PointsAccount.objects.count()


def _assert_not_registered(response: Any) -> None:
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["code"] == "not_registered"
    assert body["detail"]


def test_roster_is_the_default(settings):
    from awsomeshop.settings import base

    assert base.EMPLOYEE_PROVISIONING == "roster"
    assert settings.EMPLOYEE_PROVISIONING == "roster"


def test_roster_refuses_an_unregistered_identity_and_writes_no_row(anon, make_user):
    make_user(email="someone@example.com")
    before = _counts()
    token = get_local_issuer().issue(email="stranger@example.com", name="Stranger", employee_id="X-1")
    response = _me(anon, token)
    _assert_not_registered(response)
    assert "stranger@example.com" in response.json()["detail"]
    assert _counts() == before
    # Refused every time, not just the first: nothing was remembered.
    _assert_not_registered(_me(anon, token))
    assert _counts() == before


def test_roster_links_the_employee_hr_registered_by_verified_email(anon, make_user):
    registered = make_user(email="ann@example.com", employee_id="E-1", points=70)
    before = _counts()
    response = _me(anon, get_local_issuer().issue(email="Ann@Example.com", sub="sub-ann"))
    assert response.status_code == 200, response.content
    assert response.json()["balance"] == 70
    registered.refresh_from_db()
    assert registered.cognito_sub == "sub-ann"
    assert _counts() == before


def test_roster_links_by_employee_id_claim_when_the_email_differs(anon, make_user):
    registered = make_user(email="ann.old@example.com", employee_id="E-42")
    response = _me(anon, get_local_issuer().issue(email="ann@corp.example", employee_id="E-42", sub="s-42"))
    assert response.status_code == 200, response.content
    registered.refresh_from_db()
    assert registered.cognito_sub == "s-42"
    assert registered.email == "ann.old@example.com"  # the roster's email stays HR's


def test_email_and_employee_id_of_two_different_employees_link_nobody(anon, make_user):
    ann = make_user(email="ann@example.com", employee_id="E-1")
    bob = make_user(email="bob@example.com", employee_id="E-2")
    token = get_local_issuer().issue(email="ann@example.com", employee_id="E-2", sub="s-mixed")
    response = _me(anon, token)
    _assert_not_registered(response)
    assert "two different" in response.json()["detail"]
    ann.refresh_from_db()
    bob.refresh_from_db()
    assert ann.cognito_sub is None and bob.cognito_sub is None


def test_roster_does_not_link_a_deactivated_employee(anon, make_user):
    leaver = make_user(email="leaver@example.com", is_active=False)
    _assert_not_registered(_me(anon, get_local_issuer().issue(email="leaver@example.com", sub="s-l")))
    leaver.refresh_from_db()
    assert leaver.cognito_sub is None


def test_an_account_off_the_roster_is_never_linked(anon, make_user):
    hr_only = make_user(email="hr@example.com", is_staff=True, is_employee=False)
    _assert_not_registered(_me(anon, get_local_issuer().issue(email="hr@example.com", sub="s-hr")))
    hr_only.refresh_from_db()
    assert hr_only.cognito_sub is None


def test_an_account_off_the_roster_already_linked_gets_not_registered(anon, make_user):
    ops = make_user(email="ops@example.com", is_employee=False, cognito_sub="s-ops")
    response = _me(anon, get_local_issuer().issue(email=ops.email, sub="s-ops"))
    _assert_not_registered(response)
    orders = anon.get(
        "/api/v1/orders/",
        HTTP_AUTHORIZATION=f"Bearer {get_local_issuer().issue(email=ops.email, sub='s-ops')}",
    )
    assert orders.json()["code"] == "not_registered"


def test_an_identity_already_linked_elsewhere_is_not_moved(anon, make_user):
    make_user(email="taken@example.com", cognito_sub="first-sub")
    _assert_not_registered(_me(anon, get_local_issuer().issue(email="taken@example.com", sub="second-sub")))
    assert User.objects.get(email="taken@example.com").cognito_sub == "first-sub"


def test_jit_creates_a_verified_identity_within_the_allowed_domains(anon, db, settings):
    settings.EMPLOYEE_PROVISIONING = "jit"
    settings.EMPLOYEE_EMAIL_DOMAINS = ["corp.example"]
    response = _me(anon, get_local_issuer().issue(email="new@corp.example", name="New", employee_id="J-1"))
    assert response.status_code == 200, response.content
    user = User.objects.get(email="new@corp.example")
    assert (user.is_employee, user.employee_id) == (True, "J-1")
    assert PointsAccount.objects.filter(user=user).exists()


def test_jit_refuses_an_email_outside_the_allowed_domains_and_writes_no_row(anon, db, settings):
    settings.EMPLOYEE_PROVISIONING = "jit"
    settings.EMPLOYEE_EMAIL_DOMAINS = ["corp.example"]
    before = _counts()
    # A look-alike subdomain is not the company's domain.
    for email in ("outsider@gmail.example", "x@evil.corp.example.net", "y@sub.corp.example"):
        _assert_not_registered(_me(anon, get_local_issuer().issue(email=email)))
    assert _counts() == before


def test_jit_refuses_an_unverified_email_and_writes_no_row(anon, db, settings):
    settings.EMPLOYEE_PROVISIONING = "jit"
    before = _counts()
    token = get_local_issuer().issue(email="unverified@example.com", extra={"email_verified": False})
    _assert_not_registered(_me(anon, token))
    assert _counts() == before


def test_jit_without_domains_admits_any_verified_identity(anon, db, settings):
    settings.EMPLOYEE_PROVISIONING = "jit"
    settings.EMPLOYEE_EMAIL_DOMAINS = []
    assert _me(anon, get_local_issuer().issue(email="anyone@example.org")).status_code == 200


def test_the_environment_variables_are_parsed(monkeypatch):
    import importlib

    from awsomeshop.settings import base

    monkeypatch.setenv("EMPLOYEE_PROVISIONING", " JIT ")
    monkeypatch.setenv("EMPLOYEE_EMAIL_DOMAINS", "Corp.Example, @sub.example ,")
    try:
        reloaded = importlib.reload(base)
        assert reloaded.EMPLOYEE_PROVISIONING == "jit"
        assert reloaded.EMPLOYEE_EMAIL_DOMAINS == ["corp.example", "sub.example"]
    finally:
        monkeypatch.undo()
        importlib.reload(base)


def test_an_unknown_provisioning_mode_stops_the_process(settings):
    settings.EMPLOYEE_PROVISIONING = "open"
    with pytest.raises(SystemCheckError, match="EMPLOYEE_PROVISIONING"):
        call_command("check")


@requires_server_db
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_twenty_first_requests_from_an_unregistered_identity_write_nothing(record_figure):
    from tests.conftest import CheckedClient
    from tests.support.threads import run_at_once

    token = get_local_issuer().issue(email="racer-unknown@example.com", name="Racer", employee_id="U-1")
    before = _counts()
    statuses = run_at_once(
        20, lambda i: CheckedClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code
    )
    record_figure(f"unregistered identity, 20 threads: statuses {sorted(set(map(str, statuses)))}")
    assert statuses == [403] * 20
    assert _counts() == before
