"""HR's company sign-in to the admin: the full OIDC code flow with PKCE against a running provider.

Every test drives the browser's path for real: our /oidc/authenticate/ redirects to the
provider's authorize endpoint (fetched over HTTP), which redirects back to /oidc/callback/;
the callback exchanges the code at the provider's token endpoint and verifies the ID token
against its JWKS, all over HTTP on the loopback interface. The provider is the Cognito
stand-in described in tests/support/oidc_provider.py.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth.models import Group
from django.test import Client

from shop.access.roles import HR_GROUP_NAME
from shop.identity.services import user_create
from shop.models import User
from tests.support.oidc_provider import Identity, OidcProvider, running_provider

CLIENT_ID = "admin-client-id"
CLIENT_SECRET = "admin-client-secret"
CALLBACK = "http://testserver/oidc/callback/"


@pytest.fixture(scope="module")
def running() -> Iterator[OidcProvider]:
    with running_provider(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=[CALLBACK]) as p:
        yield p


@pytest.fixture
def provider(running: OidcProvider, settings: Any, db: None) -> OidcProvider:
    """The provider, reset, with the admin's sign-in configured against it."""
    running.identity = None
    running.authorize_requests.clear()
    running.token_requests.clear()
    running.id_token_overrides.clear()
    base = running.base_url
    settings.ADMIN_OIDC_ENABLED = True
    settings.ADMIN_OIDC_ISSUER = running.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{base}/oauth2/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{base}/oauth2/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{base}/oauth2/userInfo"
    settings.OIDC_OP_JWKS_ENDPOINT = running.jwks_url
    settings.OIDC_OP_LOGOUT_ENDPOINT = f"{base}/logout"
    settings.COGNITO_HR_GROUP = "hr"
    return running


def _to_provider(client: Client, provider: OidcProvider) -> str:
    """Start a sign-in; the provider's answer: the callback URL (path and query) it redirects to."""
    start = client.get("/oidc/authenticate/", {"next": "/admin/"})
    assert start.status_code == 302
    assert start["Location"].startswith(f"{provider.base_url}/oauth2/authorize?")
    answer = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert (back.scheme, back.netloc, back.path) == ("http", "testserver", "/oidc/callback/")
    return f"{back.path}?{back.query}"


def sign_in(client: Client, provider: OidcProvider) -> Any:
    return client.get(_to_provider(client, provider))


def _hr_group() -> Group:
    return Group.objects.get(name=HR_GROUP_NAME)


def _signed_in_as(client: Client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).email if user_id else None


def test_pkce_challenge_is_sent_and_the_verifier_exchanged_with_the_code(provider):
    provider.identity = Identity(email="hana@example.com", name="Hana Sato", groups=["hr"])
    client = Client()
    response = sign_in(client, provider)
    assert response.status_code == 302 and response["Location"] == "/admin/"

    (authorize,) = provider.authorize_requests
    sent = authorize["params"]
    assert sent["code_challenge_method"] == "S256"
    assert sent["scope"] == "openid email profile"
    assert sent["redirect_uri"] == CALLBACK and sent["nonce"]
    (token,) = provider.token_requests
    verifier = token["params"]["code_verifier"]
    assert 43 <= len(verifier) <= 128
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert digest == sent["code_challenge"]
    # The confidential client's secret goes by HTTP Basic, never in the form body.
    assert "client_secret" not in token["params"]
    assert token["headers"]["authorization"].startswith("Basic ")


def test_a_wrong_code_verifier_is_refused_by_the_provider_and_nobody_is_signed_in(provider):
    provider.identity = Identity(email="hana@example.com", groups=["hr"])
    client = Client()
    callback = _to_provider(client, provider)
    session = client.session
    (state,) = session["oidc_states"]
    session["oidc_states"][state]["code_verifier"] = "x" * 64  # not the one the challenge came from
    session.save()

    response = client.get(callback)

    assert response.status_code == 503
    assert b"did not accept this sign-in" in response.content
    assert provider.token_requests[0]["params"]["code_verifier"] == "x" * 64
    assert _signed_in_as(client) is None
    assert not User.objects.filter(email="hana@example.com").exists()


def test_the_hr_group_makes_a_new_hr_user_who_can_open_the_admin(provider):
    provider.identity = Identity(email="Hana@Example.com", name="Hana Sato", groups=["staff", "hr"])
    client = Client()
    assert sign_in(client, provider).status_code == 302

    user = User.objects.get(email="hana@example.com")
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.all()) == [_hr_group()]
    assert user.cognito_sub == provider.identity.sub and user.name == "Hana Sato"
    assert not user.is_employee  # an HR-only account receives no points
    assert _signed_in_as(client) == "hana@example.com"
    assert client.get("/admin/").status_code == 200
    # Short sessions: a role removed in Cognito does not outlive the working day.
    assert client.session.get_expiry_age() == 8 * 3600


def test_an_existing_employee_is_matched_by_verified_email_then_by_sub(provider):
    employee = user_create(email="ben@example.com", name="Ben", employee_id="E77")
    provider.identity = Identity(email="ben@example.com", groups=["hr"])
    assert sign_in(Client(), provider).status_code == 302
    employee.refresh_from_db()
    assert employee.cognito_sub == provider.identity.sub
    assert employee.is_staff and employee.is_employee  # still on the roster
    # Later the email changes in Cognito: the sub still finds the same person.
    provider.identity = Identity(email="ben.new@example.com", sub=provider.identity.sub, groups=["hr"])
    client = Client()
    assert sign_in(client, provider).status_code == 302
    assert _signed_in_as(client) == "ben@example.com"
    assert User.objects.count() == 1


def test_an_unverified_email_is_not_linked_to_an_existing_account(provider):
    user_create(email="ben@example.com", name="Ben")
    provider.identity = Identity(email="ben@example.com", groups=["hr"], email_verified=False)
    client = Client()
    response = sign_in(client, provider)
    assert response.status_code == 403
    assert b"no verified email" in response.content
    assert User.objects.get(email="ben@example.com").cognito_sub is None
    assert _signed_in_as(client) is None


def test_an_email_linked_to_another_identity_is_refused(provider):
    user_create(email="ben@example.com", name="Ben", cognito_sub="someone-else")
    provider.identity = Identity(email="ben@example.com", groups=["hr"])
    response = sign_in(Client(), provider)
    assert response.status_code == 403
    assert b"linked to another company account" in response.content
    assert User.objects.get(email="ben@example.com").cognito_sub == "someone-else"


def test_an_unknown_identity_without_the_group_is_refused_and_gets_no_row(provider):
    provider.identity = Identity(email="mallory@example.com", groups=["engineering"])
    before = User.objects.count()
    client = Client()
    response = sign_in(client, provider)

    assert response.status_code == 403
    assert b"not in the HR group" in response.content
    assert User.objects.count() == before
    assert _signed_in_as(client) is None
    assert client.get("/admin/").status_code == 302  # to the login page


def test_taking_someone_out_of_the_group_removes_the_role_at_next_sign_in(provider):
    provider.identity = Identity(email="hana@example.com", groups=["hr"])
    assert sign_in(Client(), provider).status_code == 302
    provider.identity = Identity(email="hana@example.com", sub=provider.identity.sub, groups=[])

    client = Client()
    response = sign_in(client, provider)

    assert response.status_code == 403
    user = User.objects.get(email="hana@example.com")
    assert not user.is_staff and not user.groups.exists()
    assert _signed_in_as(client) is None


def test_a_superuser_never_signs_in_this_way_and_keeps_its_flags(provider):
    root = User.objects.create_superuser("root@example.com", "root-password-1", name="Root")
    provider.identity = Identity(email="root@example.com", groups=["hr"])
    client = Client()
    response = sign_in(client, provider)
    assert response.status_code == 403
    assert b"superuser" in response.content
    root.refresh_from_db()
    assert root.is_superuser and root.is_staff and root.cognito_sub is None
    assert _signed_in_as(client) is None


def test_the_group_never_makes_a_superuser(provider):
    provider.identity = Identity(email="hana@example.com", groups=["hr", "admin", "superuser"])
    assert sign_in(Client(), provider).status_code == 302
    assert not User.objects.get(email="hana@example.com").is_superuser


def test_a_callback_with_another_state_is_refused_before_any_token_exchange(provider):
    provider.identity = Identity(email="hana@example.com", groups=["hr"])
    client = Client()
    callback = _to_provider(client, provider)
    query = parse_qs(urlsplit(callback).query)
    forged = f"/oidc/callback/?code={query['code'][0]}&state=forged-state"

    response = client.get(forged)

    assert response.status_code == 400
    assert b"does not belong to this browser" in response.content
    assert provider.token_requests == []
    assert _signed_in_as(client) is None
    assert not User.objects.filter(email="hana@example.com").exists()


def test_a_callback_in_a_browser_that_started_no_sign_in_is_refused(provider):
    provider.identity = Identity(email="hana@example.com", groups=["hr"])
    callback = _to_provider(Client(), provider)
    stranger = Client()
    response = stranger.get(callback)
    assert response.status_code == 400
    assert provider.token_requests == []
    assert _signed_in_as(stranger) is None


def test_a_used_state_cannot_be_replayed(provider):
    provider.identity = Identity(email="hana@example.com", groups=["hr"])
    client = Client()
    callback = _to_provider(client, provider)
    assert client.get(callback).status_code == 302
    client.logout()
    assert client.get(callback).status_code == 400
    assert len(provider.token_requests) == 1


@pytest.mark.parametrize(
    ("override", "why"),
    [
        ({"aud": "another-app-client"}, "another app client"),
        ({"iss": "https://cognito-idp.us-east-2.amazonaws.com/us-east-2_Other"}, "another pool"),
        ({"nonce": "not-the-nonce-we-sent"}, "nonce"),
        ({"token_use": "access"}, "not an ID token"),
    ],
    ids=["audience", "issuer", "nonce", "token-use"],
)
def test_an_id_token_that_is_not_for_us_is_refused(provider, override, why):
    provider.identity = Identity(email="hana@example.com", groups=["hr"])
    provider.id_token_overrides.update(override)
    client = Client()
    response = sign_in(client, provider)
    assert response.status_code == 403, why
    assert b"could not be verified" in response.content
    assert not User.objects.filter(email="hana@example.com").exists()


def test_the_provider_answering_with_an_error_is_a_clear_refusal(provider):
    provider.identity = None  # the provider answers access_denied
    client = Client()
    response = sign_in(client, provider)
    assert response.status_code == 403
    assert b"access_denied" in response.content


def test_an_unreachable_token_endpoint_is_a_503_page_not_a_server_error(provider, settings):
    provider.identity = Identity(email="hana@example.com", groups=["hr"])
    client = Client()
    callback = _to_provider(client, provider)
    settings.OIDC_OP_TOKEN_ENDPOINT = "http://127.0.0.1:9/oauth2/token"  # discard port: refused
    response = client.get(callback)
    assert response.status_code == 503
    assert b"did not answer" in response.content


def test_company_sign_in_is_not_offered_when_not_configured(db, settings):
    settings.ADMIN_OIDC_ENABLED = False
    page = Client().get("/admin/login/")
    assert b"Sign in with company account" not in page.content
    assert b'id="login-form"' in page.content
    assert Client().get("/oidc/authenticate/").status_code == 404
    assert Client().get("/oidc/callback/?code=x&state=y").status_code == 404


def test_the_login_page_offers_company_sign_in_when_configured(provider):
    page = Client().get("/admin/login/?next=/admin/")
    assert page.status_code == 200
    assert b"Sign in with company account" in page.content
    assert b'href="/oidc/authenticate/?next=/admin/"' in page.content


def test_a_password_form_posted_with_code_and_state_starts_no_token_exchange(provider):
    user_create(email="hr@example.com", name="HR", password="hr-Passw0rd-1", is_staff=True)
    response = Client().post(
        "/admin/login/?code=abc&state=def",
        {"username": "hr@example.com", "password": "hr-Passw0rd-1", "next": "/admin/"},
    )
    assert response.status_code == 302  # local settings: passwords still work
    assert provider.token_requests == []


def test_a_profile_the_account_cannot_hold_is_a_clear_refusal_not_a_server_error(provider):
    provider.identity = Identity(email="hana@example.com", name="x" * 300, groups=["hr"])
    response = sign_in(Client(), provider)
    assert response.status_code == 403
    assert b"could not be used for a back-office account" in response.content
    assert not User.objects.filter(email="hana@example.com").exists()
