"""Real Cognito tokens from moto's Cognito server, used against the API as a browser would.

The suite starts moto's server on a free port, creates the pool and app client as production
has them (email as username, custom:employee_id, a client secret), signs users in with
USER_PASSWORD_AUTH and sends the ID and access tokens it gets to the API. GetUser goes through
the production code path (boto3 with COGNITO_ENDPOINT_URL pointing at the server).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest

from points.models import PointsAccount
from shop.auth import cognito_profile
from shop.models import User
from tests.support.cognito import REGION, MotoCognito, free_port
from tests.support.markers import requires_server_db

PASSWORD = "Correct-Horse-9!"


@dataclass
class Pool:
    moto: MotoCognito
    pool_id: str
    client_id: str
    client_secret: str
    idp: Any

    def secret_hash(self, username: str) -> str:
        digest = hmac.new(
            self.client_secret.encode(), (username + self.client_id).encode(), hashlib.sha256
        ).digest()
        return base64.b64encode(digest).decode()

    def add_user(self, email: str, *, name: str = "", employee_id: str = "", verified: bool = True) -> None:
        attributes = [{"Name": "email", "Value": email}]
        if verified:
            attributes.append({"Name": "email_verified", "Value": "true"})
        if name:
            attributes.append({"Name": "name", "Value": name})
        if employee_id:
            attributes.append({"Name": "custom:employee_id", "Value": employee_id})
        self.idp.admin_create_user(
            UserPoolId=self.pool_id, Username=email, UserAttributes=attributes, MessageAction="SUPPRESS"
        )
        self.idp.admin_set_user_password(
            UserPoolId=self.pool_id, Username=email, Password=PASSWORD, Permanent=True
        )

    def sign_in(
        self, email: str, *, client_id: str | None = None, secret: str | None = None
    ) -> dict[str, str]:
        client_id = client_id or self.client_id
        params = {"USERNAME": email, "PASSWORD": PASSWORD}
        if client_id == self.client_id:
            params["SECRET_HASH"] = self.secret_hash(email)
        result = self.idp.initiate_auth(
            ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=params
        )
        tokens: dict[str, str] = result["AuthenticationResult"]
        return tokens


def _create_pool(moto: MotoCognito, idp: Any, name: str) -> tuple[str, str, str]:
    pool = idp.create_user_pool(
        PoolName=name,
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "employee_id", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="awsomeshop-web",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    return pool["Id"], client["ClientId"], client["ClientSecret"]


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoCognito]:
    with pytest.MonkeyPatch.context() as patch:
        # Dummy credentials: boto3 signs admin calls; moto accepts any.
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_SESSION_TOKEN", "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.delenv("AWS_PROFILE", raising=False)
        server = MotoCognito().start()
        yield server
        server.stop()


@pytest.fixture(scope="module")
def pool(moto_server: MotoCognito) -> Pool:
    idp = moto_server.client()
    pool_id, client_id, secret = _create_pool(moto_server, idp, "awsomeshop-users")
    return Pool(moto=moto_server, pool_id=pool_id, client_id=client_id, client_secret=secret, idp=idp)


@pytest.fixture
def cognito(settings: Any, pool: Pool) -> Pool:
    """The API configured exactly as production is, but for the emulator's addresses."""
    settings.COGNITO_USER_POOL_ID = pool.pool_id
    settings.COGNITO_CLIENT_ID = pool.client_id
    settings.AWS_REGION = REGION
    settings.COGNITO_ISSUER = ""  # moto's tokens name the real AWS issuer for the pool
    settings.COGNITO_JWKS_URL = pool.moto.jwks_url(pool.pool_id)
    settings.COGNITO_ENDPOINT_URL = pool.moto.url
    return pool


@pytest.fixture
def email() -> str:
    return f"emp-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def get_user_calls() -> Iterator[list[str]]:
    """Counts Cognito GetUser calls while still making them for real."""
    calls: list[str] = []
    real = cognito_profile.cognito_client

    def counting() -> Any:
        client = real()
        original = client.get_user

        def get_user(**kwargs: Any) -> Any:
            calls.append(kwargs["AccessToken"])
            return original(**kwargs)

        client.get_user = get_user
        return client

    with mock.patch.object(cognito_profile, "cognito_client", counting):
        yield calls


def _me(anon: Any, token: str) -> Any:
    return anon.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_id_and_access_tokens_both_work_and_the_employee_is_provisioned_once(
    anon, db, cognito, email, settings
):
    settings.EMPLOYEE_PROVISIONING = "jit"
    cognito.add_user(email, name="Ann Moto", employee_id="M-1001")
    tokens = cognito.sign_in(email)
    # The access token first: moto's ID tokens leave out `email_verified` (Cognito's carry it),
    # and an unverified email never provisions; GetUser reports the attribute as Cognito does.
    by_access = _me(anon, tokens["AccessToken"])
    assert by_access.status_code == 200, by_access.content
    by_id = _me(anon, tokens["IdToken"])
    assert by_id.status_code == 200, by_id.content
    assert by_id.json()["id"] == by_access.json()["id"]
    assert by_id.json()["email"] == email
    assert by_id.json()["employee_id"] == "M-1001"
    assert User.objects.filter(email=email).count() == 1
    assert PointsAccount.objects.filter(user__email=email).count() == 1


def test_access_token_first_completes_the_profile_with_get_user_once(
    anon, db, cognito, email, get_user_calls, settings
):
    settings.EMPLOYEE_PROVISIONING = "jit"
    cognito.add_user(email, name="Ann Access", employee_id="M-2002")
    access = cognito.sign_in(email)["AccessToken"]
    response = _me(anon, access)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["email"], body["name"], body["employee_id"]) == (email, "Ann Access", "M-2002")
    assert get_user_calls == [access]
    for _ in range(3):
        assert _me(anon, access).status_code == 200
    assert len(get_user_calls) == 1  # known by sub from now on; Cognito is not asked again


@pytest.mark.django_db(transaction=True)
def test_get_user_runs_outside_any_database_transaction(anon, cognito, email, settings):
    from django.db import connection

    settings.EMPLOYEE_PROVISIONING = "jit"

    seen: list[bool] = []
    real = cognito_profile.cognito_client

    def spying() -> Any:
        client = real()
        original = client.get_user

        def get_user(**kwargs: Any) -> Any:
            seen.append(connection.in_atomic_block)
            return original(**kwargs)

        client.get_user = get_user
        return client

    cognito.add_user(email)
    with mock.patch.object(cognito_profile, "cognito_client", spying):
        assert _me(anon, cognito.sign_in(email)["AccessToken"]).status_code == 200
    assert seen == [False]


def test_access_token_links_the_hr_registered_employee_without_touching_balance_or_flags(
    anon, cognito, email, make_user, get_user_calls
):
    registered = make_user(email=email, name="HR Name", employee_id="HR-7", points=250, is_staff=True)
    cognito.add_user(email, name="Cognito Name", employee_id="M-9")
    response = _me(anon, cognito.sign_in(email)["AccessToken"])
    assert response.status_code == 200, response.content
    registered.refresh_from_db()
    assert registered.cognito_sub is not None
    assert (registered.name, registered.employee_id, registered.is_staff) == ("HR Name", "HR-7", True)
    assert response.json()["balance"] == 250
    assert User.objects.filter(email=email).count() == 1


def test_unverified_email_does_not_link_to_the_hr_registered_employee(anon, cognito, email, make_user):
    make_user(email=email, points=500)
    cognito.add_user(email, verified=False)
    response = _me(anon, cognito.sign_in(email)["AccessToken"])
    assert response.status_code == 403
    assert response.json()["code"] == "not_registered"
    assert User.objects.get(email=email).cognito_sub is None


def test_deactivated_employee_is_403_with_either_token(anon, db, cognito, email, settings):
    settings.EMPLOYEE_PROVISIONING = "jit"
    cognito.add_user(email, name="Leaver")
    tokens = cognito.sign_in(email)
    assert _me(anon, tokens["AccessToken"]).status_code == 200  # moto's ID tokens lack email_verified
    User.objects.filter(email=email).update(is_active=False)
    for token in (tokens["IdToken"], tokens["AccessToken"]):
        response = _me(anon, token)
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


def test_tokens_from_another_pool_on_the_same_emulator_are_401(anon, db, cognito, moto_server, email):
    # moto signs every pool's tokens with one key, so only the issuer check can tell them apart.
    idp = moto_server.client()
    other_pool, other_client, other_secret = _create_pool(moto_server, idp, "someone-elses-pool")
    other = Pool(
        moto=moto_server, pool_id=other_pool, client_id=other_client, client_secret=other_secret, idp=idp
    )
    other.add_user(email)
    tokens = other.sign_in(email)
    for token in (tokens["IdToken"], tokens["AccessToken"]):
        response = _me(anon, token)
        assert response.status_code == 401
        assert response.json()["code"] == "authentication_failed"
    assert not User.objects.filter(email=email).exists()


def test_tokens_for_another_app_client_of_our_pool_are_401(anon, db, cognito, email):
    other_client = cognito.idp.create_user_pool_client(
        UserPoolId=cognito.pool_id, ClientName="another-app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.add_user(email)
    tokens = cognito.sign_in(email, client_id=other_client)
    for token in (tokens["IdToken"], tokens["AccessToken"]):
        assert _me(anon, token).status_code == 401
    assert not User.objects.filter(email=email).exists()


def test_access_token_of_a_user_disabled_in_cognito_is_401(anon, db, cognito, email):
    cognito.add_user(email)
    access = cognito.sign_in(email)["AccessToken"]
    # Still a validly signed, unexpired token; GetUser is where Cognito says no.
    cognito.idp.admin_disable_user(UserPoolId=cognito.pool_id, Username=email)
    response = _me(anon, access)
    assert response.status_code == 401
    assert not User.objects.filter(email=email).exists()


def test_get_user_unreachable_is_503_and_provisions_nothing(anon, db, cognito, settings, email):
    cognito.add_user(email)
    access = cognito.sign_in(email)["AccessToken"]
    with mock.patch.object(cognito_profile, "cognito_client") as unreachable:
        from botocore.exceptions import EndpointConnectionError

        unreachable.return_value.get_user.side_effect = EndpointConnectionError(
            endpoint_url=f"http://127.0.0.1:{free_port()}"
        )
        response = _me(anon, access)
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert not User.objects.filter(email=email).exists()


def test_get_user_against_a_closed_port_is_503(anon, db, cognito, settings, email):
    cognito.add_user(email)
    access = cognito.sign_in(email)["AccessToken"]
    settings.COGNITO_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    response = _me(anon, access)
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


@requires_server_db
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_twenty_first_requests_with_access_tokens_provision_one_employee(
    cognito, email, record_figure, settings
):
    settings.EMPLOYEE_PROVISIONING = "jit"
    from tests.conftest import CheckedClient
    from tests.shop.test_cognito_provisioning import run_at_once

    cognito.add_user(email, name="Racer", employee_id=f"R-{uuid.uuid4().hex[:6]}")
    access = cognito.sign_in(email)["AccessToken"]
    statuses = run_at_once(20, lambda i: _me(CheckedClient(), access).status_code)
    record_figure(f"access-token provisioning race, 20 threads: statuses {sorted(set(map(str, statuses)))}")
    assert statuses == [200] * 20
    assert User.objects.filter(email=email).count() == 1
    assert PointsAccount.objects.filter(user__email=email).count() == 1


def test_moto_server_is_in_process_and_needs_no_network(moto_server):
    # Guard: the emulator listens on loopback only; nothing in these tests leaves the machine.
    assert moto_server.url.startswith("http://127.0.0.1:")
    assert os.environ.get("AWS_ACCESS_KEY_ID") == "testing"
