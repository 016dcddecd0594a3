"""Token verification with the local issuer: what is trusted and what is refused."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shop.auth.local_issuer import get_local_issuer
from shop.models import User
from tests.conftest import token_for


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _get_me(anon, token: str):
    return anon.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_valid_token_reaches_the_api(api, employee):
    response = api.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["email"] == employee.email


def test_no_token_is_401_not_authenticated(anon, db):
    response = anon.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer a b", "Token xyz"])
def test_malformed_authorization_header_is_401(anon, db, header):
    response = anon.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_expired_token_is_401(anon, employee):
    token = token_for(employee, lifetime_seconds=-120)
    response = _get_me(anon, token)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_tampered_signature_is_401(anon, employee):
    header, payload, signature = token_for(employee).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["email"] = "someone-else@example.com"
    forged = ".".join([header, _b64(claims), signature])
    assert _get_me(anon, forged).status_code == 401


def test_alg_none_is_401(anon, employee):
    issuer = get_local_issuer()
    claims = {
        "sub": employee.cognito_sub,
        "iss": issuer.issuer,
        "aud": issuer.client_id,
        "token_use": "id",
        "exp": int(time.time()) + 600,
        "email": employee.email,
    }
    token = _b64({"alg": "none", "kid": issuer.kid}) + "." + _b64(claims) + "."
    assert _get_me(anon, token).status_code == 401


def test_hs256_signed_with_the_public_key_is_401(anon, employee):
    issuer = get_local_issuer()
    public_pem = issuer.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = {
        "sub": employee.cognito_sub,
        "iss": issuer.issuer,
        "aud": issuer.client_id,
        "token_use": "id",
        "exp": int(time.time()) + 600,
        "email": employee.email,
    }
    header = {"alg": "HS256", "kid": issuer.kid, "typ": "JWT"}
    import hashlib
    import hmac

    signing_input = _b64(header) + "." + _b64(claims)
    sig = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = signing_input + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
    assert _get_me(anon, token).status_code == 401


def test_token_signed_by_another_key_is_401(anon, employee):
    issuer = get_local_issuer()
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {
        "sub": employee.cognito_sub,
        "iss": issuer.issuer,
        "aud": issuer.client_id,
        "token_use": "id",
        "exp": int(time.time()) + 600,
        "email": employee.email,
    }
    token = jwt.encode(claims, other, algorithm="RS256", headers={"kid": issuer.kid})
    assert _get_me(anon, token).status_code == 401


def test_unknown_kid_is_401(anon, employee):
    issuer = get_local_issuer()
    claims = {
        "sub": employee.cognito_sub,
        "iss": issuer.issuer,
        "aud": issuer.client_id,
        "token_use": "id",
        "exp": int(time.time()) + 600,
    }
    token = jwt.encode(claims, issuer.private_key, algorithm="RS256", headers={"kid": "other-kid"})
    assert _get_me(anon, token).status_code == 401


@pytest.mark.parametrize(
    "override",
    [
        {"iss": "https://evil.example.com"},
        {"aud": "another-client"},
        {"token_use": "refresh"},
        {"sub": ""},
    ],
    ids=["wrong-issuer", "wrong-audience", "wrong-token-use", "empty-sub"],
)
def test_token_with_wrong_claims_is_401(anon, employee, override):
    token = get_local_issuer().issue(email=employee.email, sub=employee.cognito_sub, extra=override)
    assert _get_me(anon, token).status_code == 401


def test_access_token_for_another_client_is_401(anon, employee):
    token = get_local_issuer().issue(
        email=employee.email,
        sub=employee.cognito_sub,
        token_use="access",
        extra={"client_id": "another-client"},
    )
    assert _get_me(anon, token).status_code == 401


def test_access_token_for_known_employee_works(anon, employee):
    token = get_local_issuer().issue(email=employee.email, sub=employee.cognito_sub, token_use="access")
    assert _get_me(anon, token).status_code == 200


def test_access_token_for_unknown_subject_is_401(anon, db):
    token = get_local_issuer().issue(email="new@example.com", sub="never-seen", token_use="access")
    response = _get_me(anon, token)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_deactivated_employee_is_403(anon, employee):
    employee.is_active = False
    employee.save(update_fields=["is_active"])
    response = _get_me(anon, token_for(employee))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_first_sign_in_in_jit_mode_creates_the_employee_with_an_account(anon, db, settings):
    settings.EMPLOYEE_PROVISIONING = "jit"
    token = get_local_issuer().issue(email="New.Person@Example.com", name="New Person", employee_id="E777")
    response = _get_me(anon, token)
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "new.person@example.com"
    assert body["employee_id"] == "E777"
    assert body["balance"] == 0
    assert User.objects.filter(email="new.person@example.com").count() == 1


def test_first_sign_in_links_the_employee_hr_registered(anon, make_user):
    registered = make_user(email="hr-made@example.com", name="Registered", points=50)
    token = get_local_issuer().issue(email="hr-made@example.com", name="Other Name", sub="fresh-sub")
    response = _get_me(anon, token)
    assert response.status_code == 200
    registered.refresh_from_db()
    assert registered.cognito_sub == "fresh-sub"
    assert registered.name == "Registered"  # claims never overwrite what HR entered
    assert response.json()["balance"] == 50


def test_unverified_email_does_not_link_to_a_registered_employee(anon, make_user):
    make_user(email="target@example.com", points=500)
    token = get_local_issuer().issue(
        email="target@example.com", sub="attacker-sub", extra={"email_verified": False}
    )
    response = _get_me(anon, token)
    assert response.status_code == 403
    assert response.json()["code"] == "not_registered"
    assert User.objects.get(email="target@example.com").cognito_sub is None


def test_claims_cannot_make_a_staff_user(anon, db, settings):
    settings.EMPLOYEE_PROVISIONING = "jit"
    token = get_local_issuer().issue(
        email="claims@example.com", extra={"is_staff": True, "custom:is_staff": "true"}
    )
    assert _get_me(anon, token).status_code == 200
    user = User.objects.get(email="claims@example.com")
    assert not user.is_staff and not user.is_superuser
