"""Employee sign-in in a real browser: the button, the provider, back to the storefront; sign-out.

Headless Chromium follows the redirects itself (storefront -> provider -> callback) with the
session cookie as a person's browser carries it; the provider is the local stand-in for
Cognito's hosted UI (tests/support/oidc_provider.py). Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from shop.models import User
from tests.admin.browser_support import screenshot
from tests.factories import UserFactory
from tests.storefront.test_sign_in import configure_storefront
from tests.support.oidc_provider import Identity, OidcProvider, running_provider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIENT_ID = "storefront-client"


@pytest.fixture
def provider(live_server: Any, settings: Any) -> Iterator[OidcProvider]:
    with running_provider(
        client_id=CLIENT_ID,
        client_secret="storefront-client-secret",
        redirect_uris=[f"{live_server.url}/signin/callback/"],
        logout_uris=[f"{live_server.url}/signed-out/"],
    ) as p:
        configure_storefront(settings, p, client_id=CLIENT_ID)
        yield p


def session_cookie(page: Any) -> dict[str, Any] | None:
    return next((c for c in page.context.cookies() if c["name"] == "sessionid"), None)


def sign_in(page: Any, live_server: Any, *, next_url: str = "") -> None:
    page.goto(f"{live_server.url}/signin/{'?next=' + next_url if next_url else ''}")
    page.click("text=Sign in with your company account")


def test_an_employee_signs_in_with_the_company_account_and_lands_on_the_storefront(
    page, live_server, provider
):
    UserFactory(email="alice@example.com", name="Alice Martin", cognito_sub=None)
    provider.identity = Identity(email="alice@example.com")
    page.goto(f"{live_server.url}/signin/")
    screenshot(page, "storefront-signin-01-sign-in")

    page.click("text=Sign in with your company account")
    page.wait_for_url(f"{live_server.url}/")
    assert provider.authorize_requests[0]["params"]["code_challenge_method"] == "S256"
    assert provider.token_requests[0]["params"]["code_verifier"]
    cookie = session_cookie(page)
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert abs(cookie["expires"] - (time.time() + 8 * 3600)) < 120
    assert User.objects.get(email="alice@example.com").cognito_sub == provider.identity.sub

    page.goto(f"{live_server.url}/signin/")
    assert "You are signed in as alice@example.com" in page.inner_text("#sign-in")
    screenshot(page, "storefront-signin-02-signed-in")


def test_a_page_that_needed_sign_in_is_where_the_employee_lands(page, live_server, provider):
    UserFactory(email="alice@example.com")
    provider.identity = Identity(email="alice@example.com")
    sign_in(page, live_server, next_url="/orders/%3Fpage%3D2")
    page.wait_for_url(f"{live_server.url}/orders/?page=2")


def test_someone_hr_has_not_registered_sees_why_and_nothing_is_saved(page, live_server, provider):
    provider.identity = Identity(email="mallory@example.com")
    sign_in(page, live_server)
    page.wait_for_selector("#not-registered")
    text = page.inner_text("#not-registered")
    assert "You are not registered for AWSomeShop" in text and "mallory@example.com" in text
    screenshot(page, "storefront-signin-03-not-registered")
    assert not User.objects.filter(email="mallory@example.com").exists()
    page.goto(f"{live_server.url}/signin/")
    assert page.is_visible("#sign-in-start")  # not signed in


def test_sign_out_ends_the_session_and_cognitos_then_shows_the_signed_out_page(page, live_server, provider):
    UserFactory(email="alice@example.com")
    provider.identity = Identity(email="alice@example.com")
    sign_in(page, live_server)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/signin/")
    page.click("text=Sign out")
    page.wait_for_selector("#signed-out")
    assert page.url == f"{live_server.url}/signed-out/"
    assert provider.logout_requests[0]["params"]["client_id"] == CLIENT_ID
    screenshot(page, "storefront-signin-04-signed-out")

    page.get_by_role("link", name="Sign in", exact=True).click()
    page.wait_for_selector("#sign-in-start")  # signed out here too: the sign-in page again


def test_an_employee_deactivated_by_hr_is_signed_out_at_the_next_request(page, live_server, provider):
    alice = UserFactory(email="alice@example.com")
    provider.identity = Identity(email="alice@example.com")
    sign_in(page, live_server)
    page.wait_for_url(f"{live_server.url}/")
    User.objects.filter(pk=alice.pk).update(is_active=False)

    page.goto(f"{live_server.url}/orders/")  # any page of the shop
    assert "has been deactivated, so you were signed out" in page.inner_text("main")
    screenshot(page, "storefront-signin-05-deactivated")
    # And signing in again is refused.
    page.click("text=Sign in with your company account")
    page.wait_for_selector("#sign-in-problem")
    assert "deactivated" in page.inner_text("#sign-in-problem")
