"""The employee API skips the browser middleware (sessions, Django's user, messages); the
admin keeps all of it, and everything else (CSRF, headers, request ids) applies to both."""

from __future__ import annotations

from django.core import checks
from django.test import Client

from shop.models import User


def test_api_requests_build_no_session_or_messages(api):
    response = api.get("/api/v1/me/")
    assert response.status_code == 200
    request = response.wsgi_request
    assert not hasattr(request, "session")
    assert not hasattr(request, "_messages")
    assert "Set-Cookie" not in response and "Cookie" not in response.get("Vary", "")


def test_api_refusals_build_no_session_either(anon, db):
    response = anon.get("/api/v1/products/")
    assert response.status_code == 401
    assert not hasattr(response.wsgi_request, "session")


def test_api_responses_keep_the_security_headers_and_request_id(api):
    response = api.get("/api/v1/products/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Request-ID"]


def test_an_admin_session_does_not_open_the_api(db):
    staff = User.objects.create_superuser("root@example.com", "root-password-1", name="Root")
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_admin_keeps_sessions_messages_and_csrf(db):
    page = Client().get("/admin/login/")
    assert page.status_code == 200
    assert hasattr(page.wsgi_request, "session") and hasattr(page.wsgi_request, "_messages")
    assert hasattr(page.wsgi_request, "user")
    refused = Client(enforce_csrf_checks=True).post(
        "/admin/login/", {"username": "root@example.com", "password": "x"}
    )
    assert refused.status_code == 403


def test_the_admin_still_finds_the_middleware_it_requires(db):
    # admin.E408-E410 accept subclasses of Django's session, auth and messages middleware.
    errors = [m for m in checks.run_checks() if m.level >= checks.ERROR]
    assert errors == []
