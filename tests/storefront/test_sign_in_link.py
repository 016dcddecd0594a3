"""Offline sign-in: `manage.py storefront_login_url` and its one-time, short-lived link."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from django.contrib.auth import get_user
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core import signing
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from awsomeshop.sessions import SessionStore
from shop.identity.services import user_create
from shop.models import User
from storefront.access import employee_required
from storefront.signin.links import sign_in_link_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def login_url(email: str, base_url: str | None = None) -> str:
    out = io.StringIO()
    args = ["--email", email] + (["--base-url", base_url] if base_url else [])
    call_command("storefront_login_url", *args, stdout=out)
    return out.getvalue().strip()


def path_of(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


def signed_in_as(client: Client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).email if user_id else None


def test_the_command_prints_a_link_that_signs_the_employee_in_like_company_sign_in():
    UserFactory(email="alice@example.com")
    url = login_url("Alice@Example.com ")
    assert url.startswith("http://127.0.0.1:8000/signin/link/")
    client = Client()
    client.get("/signin/")  # a session before sign-in, as a browser would have
    before = client.session.session_key
    response = client.get(path_of(url))
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in_as(client) == "alice@example.com"
    assert client.session.session_key != before
    assert client.session.get_expiry_age() == 8 * 3600
    assert client.session["_auth_user_backend"] == "storefront.signin.backends.StorefrontSignInBackend"


def test_the_base_url_is_the_one_given():
    UserFactory(email="alice@example.com")
    assert login_url("alice@example.com", "http://127.0.0.1:8301/").startswith(
        "http://127.0.0.1:8301/signin/link/"
    )


def test_a_link_signs_in_once():
    UserFactory(email="alice@example.com")
    path = path_of(login_url("alice@example.com"))
    assert Client().get(path).status_code == 302
    again = Client()
    response = again.get(path)
    assert response.status_code == 400 and b"already used" in response.content
    assert signed_in_as(again) is None


def test_an_older_link_is_spent_by_any_later_sign_in():
    UserFactory(email="alice@example.com")
    first = path_of(login_url("alice@example.com"))
    second = path_of(login_url("alice@example.com"))
    assert Client().get(second).status_code == 302
    assert Client().get(first).status_code == 400


def test_a_link_expires_after_fifteen_minutes(monkeypatch):
    UserFactory(email="alice@example.com")
    issued = int(time.time()) - 15 * 60 - 1
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(issued))
    path = path_of(login_url("alice@example.com"))
    monkeypatch.undo()
    client = Client()
    response = client.get(path)
    assert response.status_code == 400 and b"has expired" in response.content
    assert signed_in_as(client) is None


def test_a_link_just_under_its_lifetime_still_works(monkeypatch):
    UserFactory(email="alice@example.com")
    issued = int(time.time()) - 14 * 60
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(issued))
    path = path_of(login_url("alice@example.com"))
    monkeypatch.undo()
    assert Client().get(path).status_code == 302


def test_a_tampered_link_is_refused():
    alice = UserFactory(email="alice@example.com")
    token = sign_in_link_token(user=alice)
    response = Client().get(f"/signin/link/{token[:-2]}xx/")
    assert response.status_code == 400 and b"not valid" in response.content


def test_an_employee_deactivated_after_the_link_was_printed_is_refused():
    alice = UserFactory(email="alice@example.com")
    path = path_of(login_url("alice@example.com"))
    User.objects.filter(pk=alice.pk).update(is_active=False)
    client = Client()
    assert client.get(path).status_code == 400
    assert signed_in_as(client) is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: None, "No employee is registered"),
        (lambda: user_create(email="who@example.com", is_employee=False, is_staff=True), "not an employee"),
        (lambda: UserFactory(email="who@example.com", is_active=False), "deactivated"),
        (
            lambda: User.objects.create_superuser(email="who@example.com", password="x" * 20),
            "Operations accounts",
        ),
    ],
)
def test_the_command_refuses_anyone_who_may_not_use_the_storefront(make, message):
    make()
    with pytest.raises(CommandError, match=message):
        login_url("who@example.com")


def test_switched_off_the_command_and_the_link_refuse(settings):
    alice = UserFactory(email="alice@example.com")
    token = sign_in_link_token(user=alice)  # a valid link, made while it was allowed
    settings.STOREFRONT_LOCAL_SIGN_IN = False
    with pytest.raises(CommandError, match="switched off"):
        login_url("alice@example.com")
    client = Client()
    assert client.get(f"/signin/link/{token}/").status_code == 404
    assert signed_in_as(client) is None


def test_a_same_site_next_is_followed_and_another_site_is_not():
    UserFactory(email="alice@example.com")
    response = Client().get(path_of(login_url("alice@example.com")), {"next": "/orders/"})
    assert response["Location"] == "/orders/"
    response = Client().get(path_of(login_url("alice@example.com")), {"next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_an_employee_deactivated_while_signed_in_is_signed_out_by_employee_pages():
    # storefront.access guards every employee page; the session comes from a real sign-in.
    alice = UserFactory(email="alice@example.com")
    client = Client()
    client.get(path_of(login_url("alice@example.com")))
    User.objects.filter(pk=alice.pk).update(is_active=False)

    old_key = client.session.session_key
    request = RequestFactory().get("/orders/")
    request.session = SessionStore(old_key)
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    request.user = get_user(request)  # type: ignore[assignment]
    assert request.user.is_authenticated  # the backend hands over the deactivated user ...

    def page(request: HttpRequest, *args: Any) -> HttpResponse:
        raise AssertionError("a deactivated employee reached the page")

    response = employee_required(page)(request)
    assert response.status_code == 302 and response["Location"] == "/signin/?next=/orders/"
    # ... to be signed out: the session is gone from the store.
    assert not request.user.is_authenticated and not SessionStore().exists(old_key)
