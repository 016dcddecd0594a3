"""Sign-in and sign-out against gunicorn, as deployed: the storefront's settings come from the
environment of a real server process (two workers), the local OIDC provider stands in for
Cognito's hosted UI, and headless Chromium follows every redirect.

The detailed cases (refusals, the state check, the roster rule) run in test_sign_in.py and
test_sign_in_browser.py against Django's test server; this one proves the whole path holds
together in the server the image runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shop.models import User
from tests.admin.browser_support import screenshot
from tests.factories import UserFactory
from tests.support.gunicorn import NO_SHEDDING, Gunicorn, database_url, free_port, start_gunicorn
from tests.support.markers import requires_server_db
from tests.support.oidc_provider import Identity, OidcProvider, running_provider

pytestmark = [pytest.mark.browser, requires_server_db, pytest.mark.django_db(transaction=True)]

CLIENT_ID = "storefront-web-client"
CLIENT_SECRET = "storefront-web-client-secret"


@pytest.fixture(scope="module")
def signed_in_server(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Gunicorn, OidcProvider]]:
    with django_db_blocker.unblock():
        url = database_url()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running_provider(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[f"{base}/signin/callback/"],
        logout_uris=[f"{base}/signed-out/"],
    ) as provider:
        env = {
            "DATABASE_URL": url,
            "STOREFRONT_OIDC_CLIENT_ID": CLIENT_ID,
            "STOREFRONT_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "COGNITO_DOMAIN": provider.base_url,  # a full URL is taken as it is (a local provider)
            "COGNITO_ISSUER": provider.issuer,
            "COGNITO_JWKS_URL": provider.jwks_url,
            **NO_SHEDDING,
        }
        log: Path = tmp_path_factory.mktemp("sign-in-gunicorn") / "gunicorn.log"
        server = start_gunicorn(env, log, workers=2, port=port)
        try:
            yield server, provider
        finally:
            server.stop()


def test_sign_in_and_sign_out_through_the_provider_against_gunicorn(
    browser: Any, signed_in_server: tuple[Gunicorn, OidcProvider]
) -> None:
    server, provider = signed_in_server
    UserFactory(email="ines@example.com", name="Ines Duarte", points=2500, cognito_sub=None)
    provider.identity = Identity(email="ines@example.com", name="Ines Duarte")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/orders/")  # a shop page: first to sign-in, then back here
        page.click("text=Sign in with your company account")
        page.wait_for_url(f"{server.url}/orders/")
        assert provider.authorize_requests[-1]["params"]["code_challenge_method"] == "S256"
        assert provider.token_requests[-1]["params"]["code_verifier"]
        page.goto(f"{server.url}/")
        assert "2,500 points" in page.inner_text("#balance")
        assert User.objects.get(email="ines@example.com").cognito_sub == provider.identity.sub
        screenshot(page, "storefront/signed-in-home-390")

        page.click("header >> text=Sign out")
        page.wait_for_selector("#signed-out")
        assert provider.logout_requests, "the provider's session was ended too"
        page.goto(f"{server.url}/")
        assert page.url.startswith(f"{server.url}/signin/")
    finally:
        context.close()
