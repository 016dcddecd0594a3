"""HR's company sign-in in a real browser: the login page's button, the provider, back to the dashboard.

Headless Chromium follows the redirects itself (admin -> provider -> callback), with the
session cookie the way a person's browser carries it; the provider is the local stand-in for
Cognito's hosted UI (tests/support/oidc_provider.py). Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shop.models import User
from tests.admin.browser_support import screenshot
from tests.admin.test_browser import _hr_group
from tests.support.oidc_provider import Identity, OidcProvider, running_provider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def provider(live_server: Any, settings: Any) -> Iterator[OidcProvider]:
    _hr_group()  # the flush of transactional tests removes the migration's group
    callback = f"{live_server.url}/oidc/callback/"
    with running_provider(client_id="admin-client", client_secret="s3cret", redirect_uris=[callback]) as p:
        settings.ADMIN_OIDC_ENABLED = True
        settings.ADMIN_PASSWORD_LOGIN = False  # as production with company sign-in
        settings.ADMIN_OIDC_ISSUER = p.issuer
        settings.OIDC_RP_CLIENT_ID = "admin-client"
        settings.OIDC_RP_CLIENT_SECRET = "s3cret"
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{p.base_url}/oauth2/authorize"
        settings.OIDC_OP_TOKEN_ENDPOINT = f"{p.base_url}/oauth2/token"
        settings.OIDC_OP_JWKS_ENDPOINT = p.jwks_url
        yield p


def test_hr_signs_in_with_the_company_account_and_lands_on_the_dashboard(page, live_server, provider):
    provider.identity = Identity(email="hana@example.com", name="Hana Sato", groups=["hr"])
    page.goto(f"{live_server.url}/admin/")
    assert page.is_visible("text=Sign in with company account")
    assert not page.is_visible("#login-form")  # folded under break glass
    screenshot(page, "20-login-company-sign-in")

    page.click("text=Sign in with company account")
    page.wait_for_selector("#hr-dashboard")
    assert page.url == f"{live_server.url}/admin/"
    assert User.objects.get(email="hana@example.com").is_staff


def test_someone_outside_the_hr_group_sees_why_they_are_refused(page, live_server, provider):
    provider.identity = Identity(email="eve@example.com", groups=["engineering"])
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.click("text=Sign in with company account")
    page.wait_for_selector("#sign-in-refused")
    assert "not in the HR group" in page.inner_text("#sign-in-refused")
    screenshot(page, "21-company-sign-in-refused")
    assert not User.objects.filter(email="eve@example.com").exists()
