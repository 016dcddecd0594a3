"""Employees' sign-in to the storefront: the OIDC code flow with PKCE against a running provider.

Each test drives the browser's path for real, as tests/shop/test_admin_sign_in.py does for HR:
/signin/start/ redirects to the provider's authorize endpoint (fetched over HTTP), which
redirects back to /signin/callback/; the callback exchanges the code at the provider's token
endpoint and verifies the ID token against its JWKS. The provider is the Cognito stand-in of
tests/support/oidc_provider.py, here playing the storefront's own app client.
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

from points.models import PointsAccount
from shop.access.roles import HR_GROUP_NAME
from shop.identity.services import user_create
from shop.models import User
from tests.factories import UserFactory
from tests.support.oidc_provider import Identity, OidcProvider, running_provider

CLIENT_ID = "storefront-client-id"
CLIENT_SECRET = "storefront-client-secret"
CALLBACK = "http://testserver/signin/callback/"
SIGNED_OUT = "http://testserver/signed-out/"


@pytest.fixture(scope="module")
def running() -> Iterator[OidcProvider]:
    with running_provider(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=[CALLBACK], logout_uris=[SIGNED_OUT]
    ) as p:
        yield p


def configure_storefront(settings: Any, provider: OidcProvider, *, client_id: str = CLIENT_ID) -> None:
    base = provider.base_url
    settings.STOREFRONT_OIDC_ENABLED = True
    settings.STOREFRONT_OIDC_CLIENT_ID = client_id
    settings.STOREFRONT_OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.STOREFRONT_OIDC_ISSUER = provider.issuer
    settings.STOREFRONT_OIDC_AUTHORIZATION_ENDPOINT = f"{base}/oauth2/authorize"
    settings.STOREFRONT_OIDC_TOKEN_ENDPOINT = f"{base}/oauth2/token"
    settings.STOREFRONT_OIDC_USER_ENDPOINT = f"{base}/oauth2/userInfo"
    settings.STOREFRONT_OIDC_JWKS_ENDPOINT = provider.jwks_url
    settings.STOREFRONT_OIDC_LOGOUT_ENDPOINT = f"{base}/logout"


@pytest.fixture
def provider(running: OidcProvider, settings: Any, db: None) -> OidcProvider:
    """The provider, reset, with the storefront's sign-in configured against it."""
    running.identity = None
    for recorded in (running.authorize_requests, running.token_requests, running.logout_requests):
        recorded.clear()
    running.id_token_overrides.clear()
    configure_storefront(settings, running)
    return running


def to_provider(client: Client, provider: OidcProvider, *, next_url: str | None = None) -> str:
    """Start a sign-in; the provider's answer: the callback (path and query) it redirects to."""
    start = client.get("/signin/start/", {"next": next_url} if next_url is not None else {})
    assert start.status_code == 302
    assert start["Location"].startswith(f"{provider.base_url}/oauth2/authorize?")
    answer = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert (back.scheme, back.netloc, back.path) == ("http", "testserver", "/signin/callback/")
    return f"{back.path}?{back.query}"


def sign_in(client: Client, provider: OidcProvider, *, next_url: str | None = None) -> Any:
    return client.get(to_provider(client, provider, next_url=next_url))


def signed_in_as(client: Client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).email if user_id else None


def registered(email: str = "alice@example.com", **kwargs: Any) -> User:
    return UserFactory(email=email, **kwargs)


def rows() -> tuple[int, int]:
    return User.objects.count(), PointsAccount.objects.count()


# -- the code flow ----------------------------------------------------------------------------


def test_pkce_challenge_is_sent_and_the_verifier_exchanged_on_the_storefront_client(provider):
    registered()
    provider.identity = Identity(email="alice@example.com")
    response = sign_in(Client(), provider)
    assert response.status_code == 302 and response["Location"] == "/"

    (authorize,) = provider.authorize_requests
    sent = authorize["params"]
    assert sent["client_id"] == CLIENT_ID
    assert sent["code_challenge_method"] == "S256"
    assert sent["response_type"] == "code" and sent["scope"] == "openid email profile"
    assert sent["redirect_uri"] == CALLBACK and sent["nonce"]
    (token,) = provider.token_requests
    verifier = token["params"]["code_verifier"]
    assert 43 <= len(verifier) <= 128
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert digest == sent["code_challenge"]
    assert token["params"]["redirect_uri"] == CALLBACK
    # The web client's secret goes by HTTP Basic, never in the form body.
    assert "client_secret" not in token["params"]
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token["headers"]["authorization"] == f"Basic {expected}"


def test_a_registered_employee_is_linked_by_verified_email_and_lands_on_next(provider):
    alice = registered(cognito_sub=None)
    provider.identity = Identity(email="alice@example.com")
    client = Client()
    response = sign_in(client, provider, next_url="/orders/?page=2")
    assert response.status_code == 302 and response["Location"] == "/orders/?page=2"
    assert signed_in_as(client) == "alice@example.com"
    alice.refresh_from_db()
    assert alice.cognito_sub == provider.identity.sub
    # The next sign-in finds her by that link, even with another email in the token.
    provider.identity = Identity(email="alice.martin@example.com", sub=alice.cognito_sub)
    assert sign_in(Client(), provider).status_code == 302


def test_an_employee_is_linked_by_custom_employee_id_when_the_email_differs(provider):
    bob = registered("bob@example.com", employee_id="E1002")
    provider.identity = Identity(email="bob@personal.example", email_verified=False)
    provider.id_token_overrides["custom:employee_id"] = "E1002"
    client = Client()
    assert sign_in(client, provider).status_code == 302
    assert signed_in_as(client) == "bob@example.com"
    bob.refresh_from_db()
    assert bob.cognito_sub == provider.identity.sub


def test_an_identity_hr_has_not_registered_sees_not_registered_and_nothing_is_written(provider):
    registered()  # someone else
    before = rows()
    provider.identity = Identity(email="mallory@example.com")
    client = Client()
    response = sign_in(client, provider)
    assert response.status_code == 403
    page = response.content.decode()
    assert "You are not registered for AWSomeShop" in page
    assert "mallory@example.com" in page and "nothing was saved" in page
    # A way to choose another account: Cognito's logout, back to our signed-out page.
    assert f"{provider.base_url}/logout?client_id={CLIENT_ID}" in page
    assert rows() == before
    assert not User.objects.filter(email="mallory@example.com").exists()
    assert signed_in_as(client) is None


def test_an_unverified_email_matches_nobody_and_writes_nothing(provider):
    alice = registered(cognito_sub=None)
    before = rows()
    provider.identity = Identity(email="alice@example.com", email_verified=False)
    response = sign_in(Client(), provider)
    assert response.status_code == 403 and b"verified email address" in response.content
    assert rows() == before
    alice.refresh_from_db()
    assert alice.cognito_sub is None


def test_an_hr_only_account_is_refused_as_not_an_employee(provider):
    identity = Identity(email="hana@example.com", groups=["hr"])
    hana = user_create(email="hana@example.com", is_employee=False, is_staff=True, cognito_sub=identity.sub)
    provider.identity = identity
    client = Client()
    response = sign_in(client, provider)
    assert response.status_code == 403
    assert b"not an employee account" in response.content
    assert signed_in_as(client) is None
    hana.refresh_from_db()
    assert hana.is_staff and not hana.is_employee  # nothing changed


def test_an_hr_only_account_not_yet_linked_is_refused_and_stays_unlinked(provider):
    hana = user_create(email="hana@example.com", is_employee=False, is_staff=True)
    provider.identity = Identity(email="hana@example.com")
    response = sign_in(Client(), provider)
    assert response.status_code == 403
    hana.refresh_from_db()
    assert hana.cognito_sub is None


def test_an_operations_superuser_is_refused(provider):
    identity = Identity(email="ops@example.com")
    User.objects.create_superuser(email="ops@example.com", password="x" * 20, cognito_sub=identity.sub)
    provider.identity = identity
    client = Client()
    response = sign_in(client, provider)
    assert response.status_code == 403 and b"Operations accounts" in response.content
    assert signed_in_as(client) is None


def test_a_deactivated_employee_is_refused(provider):
    identity = Identity(email="dave@example.com")
    registered("dave@example.com", cognito_sub=identity.sub, is_active=False)
    provider.identity = identity
    client = Client()
    response = sign_in(client, provider)
    assert response.status_code == 403 and b"deactivated" in response.content
    assert signed_in_as(client) is None


def test_jit_mode_opens_an_employee_account_for_a_new_verified_identity(provider, settings):
    settings.EMPLOYEE_PROVISIONING = "jit"
    settings.EMPLOYEE_EMAIL_DOMAINS = ["example.com"]
    provider.identity = Identity(email="new@example.com", name="New Person")
    client = Client()
    assert sign_in(client, provider).status_code == 302
    user = User.objects.get(email="new@example.com")
    assert user.is_employee and user.cognito_sub == provider.identity.sub
    assert PointsAccount.objects.filter(user=user).exists()
    assert signed_in_as(client) == "new@example.com"
    # Outside the company's domains: refused, nothing written.
    before = rows()
    provider.identity = Identity(email="someone@elsewhere.example")
    assert sign_in(Client(), provider).status_code == 403
    assert rows() == before


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/path",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
    ],
)
def test_a_next_off_this_site_is_never_followed(provider, next_url):
    registered()
    provider.identity = Identity(email="alice@example.com")
    client = Client()
    assert client.get("/signin/", {"next": next_url}).content.count(b"evil") == 0
    response = sign_in(client, provider, next_url=next_url)
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_sign_in_page_keeps_a_same_site_next_for_the_start(provider):
    page = Client().get("/signin/", {"next": "/catalog/?q=mug"})
    assert page.status_code == 200
    assert b'href="/signin/start/?next=/catalog/%3Fq%3Dmug"' in page.content
    assert b"Sign in with your company account" in page.content


def test_sign_in_rotates_the_session_key_and_the_session_lasts_eight_hours(provider):
    registered()
    provider.identity = Identity(email="alice@example.com")
    client = Client()
    callback = to_provider(client, provider)
    before = client.session.session_key
    assert before  # the start put the state in a session
    response = client.get(callback)
    assert response.status_code == 302
    after = client.session.session_key
    assert after != before
    assert client.session.get_expiry_age() == 8 * 3600
    cookie = response.cookies["sessionid"]
    assert cookie["max-age"] == 8 * 3600 and cookie["httponly"] and cookie["samesite"] == "Lax"
    # Signing in again as the same person still gets a new key (the library would keep it).
    assert sign_in(client, provider).status_code == 302
    assert client.session.session_key not in (before, after)


def test_the_session_length_is_a_setting(provider, settings):
    settings.STOREFRONT_SESSION_SECONDS = 3600
    registered()
    provider.identity = Identity(email="alice@example.com")
    client = Client()
    sign_in(client, provider)
    assert client.session.get_expiry_age() == 3600


# -- failures say what happened ----------------------------------------------------------------


def test_an_error_from_cognito_is_a_page_that_says_so(provider):
    client = Client()
    to_provider(client, provider)  # the provider refuses: nobody is "signed in" there
    state = next(iter(client.session["oidc_states"]))
    response = client.get("/signin/callback/", {"error": "access_denied", "state": state})
    assert response.status_code == 400
    assert b"did not complete the sign-in (access_denied)" in response.content
    assert state not in client.session.get("oidc_states", {})


def test_an_unreachable_cognito_is_a_503_page_and_nobody_is_signed_in(provider, settings):
    registered()
    provider.identity = Identity(email="alice@example.com")
    client = Client()
    callback = to_provider(client, provider)
    settings.STOREFRONT_OIDC_TOKEN_ENDPOINT = "http://127.0.0.1:9/oauth2/token"  # nothing listens
    response = client.get(callback)
    assert response.status_code == 503
    assert b"did not answer" in response.content and b"Traceback" not in response.content
    assert signed_in_as(client) is None


def test_an_id_token_for_another_client_is_refused_and_writes_nothing(provider):
    registered(cognito_sub=None)
    before = rows()
    provider.identity = Identity(email="alice@example.com")
    provider.id_token_overrides["aud"] = "the-admin-client"
    client = Client()
    response = sign_in(client, provider)
    assert response.status_code == 400 and b"could not be verified" in response.content
    assert rows() == before and User.objects.get(email="alice@example.com").cognito_sub is None


def test_a_callback_this_browser_did_not_start_is_refused(provider):
    registered()
    provider.identity = Identity(email="alice@example.com")
    callback = to_provider(Client(), provider)
    response = Client().get(callback)  # another browser
    assert response.status_code == 400
    assert provider.token_requests == []


def test_sign_in_is_not_offered_when_the_storefront_client_is_not_configured(db, settings):
    settings.STOREFRONT_OIDC_ENABLED = False
    page = Client().get("/signin/")
    assert page.status_code == 200 and b"not configured on this server" in page.content
    assert Client().get("/signin/start/").status_code == 404
    assert Client().get("/signin/callback/", {"code": "c", "state": "s"}).status_code == 404


# -- the admin's client and the storefront's stay apart ---------------------------------------


def test_the_admin_backend_does_not_take_a_storefront_callback(provider, settings):
    # The admin's client is configured on the same provider; Django tries its backend first.
    settings.ADMIN_OIDC_ENABLED = True
    settings.ADMIN_OIDC_ISSUER = provider.issuer
    settings.OIDC_RP_CLIENT_ID = "admin-client"
    settings.OIDC_RP_CLIENT_SECRET = "admin-secret"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{provider.base_url}/oauth2/token"
    settings.OIDC_OP_JWKS_ENDPOINT = provider.jwks_url
    registered()
    provider.identity = Identity(email="alice@example.com")
    client = Client()
    assert sign_in(client, provider).status_code == 302
    (token,) = provider.token_requests  # one exchange, on the storefront's client
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token["headers"]["authorization"] == f"Basic {expected}"
    assert client.session["_auth_user_backend"] == "storefront.signin.backends.StorefrontSignInBackend"


def test_a_state_the_admin_started_is_refused_at_the_storefront_callback(provider, settings):
    settings.ADMIN_OIDC_ENABLED = True
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{provider.base_url}/oauth2/authorize"
    client = Client()
    start = client.get("/oidc/authenticate/")
    (state,) = parse_qs(urlsplit(start["Location"]).query)["state"]
    response = client.get("/signin/callback/", {"code": "a-code", "state": state})
    assert response.status_code == 400
    assert provider.token_requests == []


def test_a_state_the_storefront_started_is_refused_at_the_admin_callback(provider, settings):
    settings.ADMIN_OIDC_ENABLED = True
    client = Client()
    start = client.get("/signin/start/")
    (state,) = parse_qs(urlsplit(start["Location"]).query)["state"]
    response = client.get("/oidc/callback/", {"code": "a-code", "state": state})
    assert response.status_code == 400
    assert provider.token_requests == []


def test_a_storefront_session_does_not_open_the_back_office(provider):
    identity = Identity(email="hana@example.com")
    hana = registered("hana@example.com", cognito_sub=identity.sub, is_staff=True)
    hana.groups.add(Group.objects.get(name=HR_GROUP_NAME))
    provider.identity = identity
    client = Client()
    assert sign_in(client, provider).status_code == 302
    admin = client.get("/admin/")
    assert admin.status_code == 302 and admin["Location"].startswith("/admin/login/")
    hana.refresh_from_db()
    assert hana.is_staff  # the flag is cleared on the session's user only


# -- sign-out ---------------------------------------------------------------------------------


def test_sign_out_is_a_post_that_ends_the_session_and_cognitos(provider):
    registered()
    provider.identity = Identity(email="alice@example.com")
    client = Client(enforce_csrf_checks=True)
    sign_in(client, provider)
    assert client.get("/signout/").status_code == 405
    assert signed_in_as(client) == "alice@example.com"
    assert client.post("/signout/").status_code == 403  # no CSRF token
    page = client.get("/signin/")
    assert b"You are signed in as alice@example.com" in page.content
    token = page.context["csrf_token"]
    response = client.post("/signout/", {"csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302
    assert signed_in_as(client) is None
    logout = urlsplit(response["Location"])
    assert f"{logout.scheme}://{logout.netloc}{logout.path}" == f"{provider.base_url}/logout"
    assert parse_qs(logout.query) == {"client_id": [CLIENT_ID], "logout_uri": [SIGNED_OUT]}
    back = requests.get(response["Location"], allow_redirects=False, timeout=5)
    assert back.status_code == 302 and back.headers["Location"] == SIGNED_OUT
    done = client.get("/signed-out/")
    assert b"You are signed out" in done.content and b'href="/signin/"' in done.content


def test_sign_out_without_cognito_goes_straight_to_the_signed_out_page(db, settings):
    settings.STOREFRONT_OIDC_ENABLED = False
    client = Client()
    client.force_login(registered(), backend="storefront.signin.backends.StorefrontSignInBackend")
    response = client.post("/signout/")
    assert response.status_code == 302 and response["Location"] == "http://testserver/signed-out/"
    assert signed_in_as(client) is None


def test_a_deactivated_employee_is_signed_out_at_the_next_visit(provider):
    alice = registered()
    provider.identity = Identity(email="alice@example.com")
    client = Client()
    sign_in(client, provider)
    User.objects.filter(pk=alice.pk).update(is_active=False)
    page = client.get("/signin/")
    assert b"has been deactivated, so you were signed out" in page.content
    assert signed_in_as(client) is None
