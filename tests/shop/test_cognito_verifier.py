"""Cognito-mode verification through the API: what the pool's tokens get, and what attacks get.

The pool's keys are ours (`JwksServer` serves them over HTTP), so every forged variant can be
made; each attack is paired with the valid token it was derived from, which gets in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from shop.access.admin_sign_in.backends import _id_token_verifier
from shop.auth.factory import get_verifier
from shop.auth.keys import JWKSKeyProvider
from shop.auth.verifier import InvalidToken, TokenVerifier
from shop.models import User
from tests.support.cognito import (
    CLIENT_ID,
    OTHER_CLIENT_ID,
    OTHER_POOL_ID,
    POOL_ID,
    REGION,
    JwksServer,
    SigningKey,
    cognito_claims,
    free_port,
    issuer_for,
    sign,
)

SUB = "5b0c6f4e-0000-4000-8000-00000000a11e"


@pytest.fixture(scope="module")
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer().start()
    yield server
    server.stop()


@pytest.fixture
def pool_key() -> SigningKey:
    return SigningKey(kid="pool-key-1")


@pytest.fixture
def jwks(jwks_server: JwksServer, pool_key: SigningKey) -> JwksServer:
    jwks_server.keys = [pool_key]
    jwks_server.fetches = 0
    jwks_server.fail = False
    return jwks_server


@pytest.fixture
def cognito(settings: Any, jwks: JwksServer) -> JwksServer:
    """The API in Cognito mode, trusting our test pool and app client."""
    settings.COGNITO_USER_POOL_ID = POOL_ID
    settings.COGNITO_CLIENT_ID = CLIENT_ID
    settings.AWS_REGION = REGION
    settings.COGNITO_ISSUER = ""
    settings.COGNITO_JWKS_URL = jwks.url
    return jwks


@pytest.fixture
def ann(make_user: Any) -> User:
    return make_user(email="ann@example.com", cognito_sub=SUB, points=100)


def _b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _me(anon: Any, token: str) -> Any:
    return anon.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")


def _assert_401(response: Any) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "authentication_failed"


# --- what gets in ------------------------------------------------------------------------------


def test_id_token_from_the_pool_for_our_client_is_accepted(anon, cognito, pool_key, ann):
    response = _me(anon, sign(cognito_claims(sub=SUB), pool_key))
    assert response.status_code == 200
    assert response.json()["email"] == "ann@example.com"


def test_access_token_from_the_pool_for_our_client_is_accepted(anon, cognito, pool_key, ann):
    response = _me(anon, sign(cognito_claims(token_use="access", sub=SUB), pool_key))
    assert response.status_code == 200
    assert response.json()["email"] == "ann@example.com"


def test_local_issuer_tokens_are_refused_in_cognito_mode(anon, cognito, employee, client_for):
    response = client_for(employee).get("/api/v1/me/")
    _assert_401(response)


# --- the attack matrix: every case is a 401 ----------------------------------------------------


def test_alg_none_is_401(anon, cognito, pool_key, ann):
    token = (
        _b64({"alg": "none", "kid": pool_key.kid, "typ": "JWT"}) + "." + _b64(cognito_claims(sub=SUB)) + "."
    )
    _assert_401(_me(anon, token))


@pytest.mark.parametrize("secret_form", ["pem", "jwk-json"])
def test_hs256_signed_with_the_public_key_as_secret_is_401(anon, cognito, pool_key, ann, secret_form):
    if secret_form == "pem":
        secret = pool_key.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    else:
        secret = json.dumps(pool_key.jwk()).encode()
    signing_input = (
        _b64({"alg": "HS256", "kid": pool_key.kid, "typ": "JWT"}) + "." + _b64(cognito_claims(sub=SUB))
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    _assert_401(_me(anon, signing_input + "." + _b64(signature)))


def test_token_from_another_pool_is_401(anon, cognito, pool_key, ann):
    # Same signing key on purpose (moto even shares one key across pools): only `iss` differs.
    token = sign(cognito_claims(sub=SUB, iss=issuer_for(OTHER_POOL_ID)), pool_key)
    _assert_401(_me(anon, token))


@pytest.mark.parametrize(
    "claims",
    [
        cognito_claims(sub=SUB, aud=OTHER_CLIENT_ID),
        cognito_claims(sub=SUB, aud=[CLIENT_ID, OTHER_CLIENT_ID]),
        cognito_claims(token_use="access", sub=SUB, client_id=OTHER_CLIENT_ID),
    ],
    ids=["id-token-other-client", "id-token-list-audience", "access-token-other-client"],
)
def test_token_for_another_app_client_is_401(anon, cognito, pool_key, ann, claims):
    _assert_401(_me(anon, sign(claims, pool_key)))


@pytest.mark.parametrize(
    "claims",
    [
        cognito_claims(sub=SUB, token_use="access"),  # an ID token's audience, labelled access
        {**cognito_claims(token_use="access", sub=SUB), "token_use": "id"},  # access, labelled id
        cognito_claims(sub=SUB, token_use="refresh"),
        cognito_claims(sub=SUB, token_use=None),
    ],
    ids=["id-claims-as-access", "access-claims-as-id", "refresh", "missing"],
)
def test_token_use_mismatch_is_401(anon, cognito, pool_key, ann, claims):
    if claims.get("token_use") == "access":
        claims = {k: v for k, v in claims.items() if k != "client_id"} | {"aud": CLIENT_ID}
    _assert_401(_me(anon, sign(claims, pool_key)))


def test_expired_token_is_401(anon, cognito, pool_key, ann, settings):
    past = int(time.time()) - settings.JWT_LEEWAY_SECONDS - 5
    _assert_401(_me(anon, sign(cognito_claims(sub=SUB, exp=past), pool_key)))


def test_token_expired_within_the_leeway_is_accepted(anon, cognito, pool_key, ann, settings):
    just_past = int(time.time()) - settings.JWT_LEEWAY_SECONDS // 2
    assert _me(anon, sign(cognito_claims(sub=SUB, exp=just_past), pool_key)).status_code == 200


def test_tampered_signature_is_401(anon, cognito, pool_key, ann):
    header, payload, signature = sign(cognito_claims(sub=SUB), pool_key).split(".")
    flipped = ("A" if signature[10] != "A" else "B").join([signature[:10], signature[11:]])
    _assert_401(_me(anon, f"{header}.{payload}.{flipped}"))


def test_tampered_payload_is_401(anon, cognito, pool_key, ann, make_user):
    make_user(email="boss@example.com", cognito_sub="boss-sub", points=10_000)
    header, _, signature = sign(cognito_claims(sub=SUB), pool_key).split(".")
    forged = _b64(cognito_claims(sub="boss-sub", email="boss@example.com"))
    _assert_401(_me(anon, f"{header}.{forged}.{signature}"))


def test_token_signed_by_another_key_under_our_kid_is_401(anon, cognito, pool_key, ann):
    impostor = SigningKey(kid=pool_key.kid)
    _assert_401(_me(anon, sign(cognito_claims(sub=SUB), impostor)))


def test_unknown_kid_is_401_after_exactly_one_refetch(anon, cognito, pool_key, ann):
    stranger = SigningKey(kid="not-published")
    _assert_401(_me(anon, sign(cognito_claims(sub=SUB), stranger)))
    assert cognito.fetches == 1  # it looked, in case the pool had rotated to that kid
    for _ in range(5):
        _assert_401(_me(anon, sign(cognito_claims(sub=SUB), stranger)))
    assert cognito.fetches == 1  # and not again within the refetch interval
    assert _me(anon, sign(cognito_claims(sub=SUB), pool_key)).status_code == 200
    assert cognito.fetches == 1  # the published key came with that one fetch


@pytest.mark.parametrize("sub", [None, ""], ids=["missing", "empty"])
def test_token_without_sub_is_401(anon, cognito, pool_key, ann, sub):
    claims = cognito_claims(sub=SUB)
    if sub is None:
        del claims["sub"]
    else:
        claims["sub"] = sub
    _assert_401(_me(anon, sign(claims, pool_key)))


def test_token_without_kid_is_401(anon, cognito, pool_key, ann):
    token = jwt.encode(cognito_claims(sub=SUB), pool_key.private, algorithm="RS256")
    _assert_401(_me(anon, token))


# --- availability: an unreachable issuer is a 503, never a 401 or 500 ---------------------------


def test_jwks_unreachable_with_nothing_cached_is_503(anon, settings, cognito, pool_key, ann):
    settings.COGNITO_JWKS_URL = f"http://127.0.0.1:{free_port()}/{POOL_ID}/.well-known/jwks.json"
    response = _me(anon, sign(cognito_claims(sub=SUB), pool_key))
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert set(response.json()) == {"code", "detail"}


def test_jwks_erroring_with_nothing_cached_is_503_then_recovers(anon, cognito, pool_key, ann, settings):
    settings.COGNITO_JWKS_MIN_REFETCH_SECONDS = 0
    cognito.fail = True
    token = sign(cognito_claims(sub=SUB), pool_key)
    assert _me(anon, token).status_code == 503
    cognito.fail = False
    assert _me(anon, token).status_code == 200


def test_cached_key_keeps_working_while_the_jwks_is_down(anon, cognito, pool_key, ann):
    token = sign(cognito_claims(sub=SUB), pool_key)
    assert _me(anon, token).status_code == 200
    cognito.fail = True
    assert _me(anon, token).status_code == 200
    assert cognito.fetches == 1


# --- key rotation, with an injected clock --------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _verifier(jwks: JwksServer, clock: FakeClock) -> TokenVerifier:
    return TokenVerifier(
        key_provider=JWKSKeyProvider(jwks.url, min_refetch_interval=10.0, clock=clock),
        issuer=issuer_for(POOL_ID),
        client_id=CLIENT_ID,
    )


def test_rotated_key_is_fetched_once_and_trusted_without_restart(jwks, pool_key):
    clock = FakeClock()
    verifier = _verifier(jwks, clock)
    assert verifier.verify(sign(cognito_claims(sub=SUB), pool_key)).sub == SUB
    assert jwks.fetches == 1
    clock.now += 11  # the pool rotates; more than the refetch interval later a token uses it
    new_key = SigningKey(kid="pool-key-2")
    jwks.keys = [new_key, pool_key]
    assert verifier.verify(sign(cognito_claims(sub=SUB), new_key)).sub == SUB
    assert jwks.fetches == 2
    for _ in range(10):
        verifier.verify(sign(cognito_claims(sub=SUB), new_key))
        verifier.verify(sign(cognito_claims(sub=SUB), pool_key))
    assert jwks.fetches == 2  # both keys are served from the cache now


def test_burst_of_unknown_kids_fetches_at_most_once_per_ten_seconds(jwks, pool_key):
    clock = FakeClock()
    verifier = _verifier(jwks, clock)
    verifier.verify(sign(cognito_claims(sub=SUB), pool_key))
    assert jwks.fetches == 1
    clock.now += 10
    for i in range(200):
        clock.now += 0.04  # 200 forged kids over 8 seconds
        with pytest.raises(InvalidToken):
            verifier.verify(sign(cognito_claims(sub=SUB), pool_key, kid=f"forged-{i}"))
    assert jwks.fetches == 2
    clock.now += 2.5  # 10.5 s after the last fetch: one more is allowed
    for i in range(50):
        with pytest.raises(InvalidToken):
            verifier.verify(sign(cognito_claims(sub=SUB), pool_key, kid=f"forged-again-{i}"))
    assert jwks.fetches == 3
    assert verifier.verify(sign(cognito_claims(sub=SUB), pool_key)).sub == SUB


def test_rotation_within_ten_seconds_of_a_fetch_waits_for_the_interval(jwks, pool_key):
    clock = FakeClock()
    verifier = _verifier(jwks, clock)
    verifier.verify(sign(cognito_claims(sub=SUB), pool_key))
    new_key = SigningKey(kid="pool-key-2")
    jwks.keys = [new_key, pool_key]
    clock.now += 3
    with pytest.raises(InvalidToken):
        verifier.verify(sign(cognito_claims(sub=SUB), new_key))
    clock.now += 7
    assert verifier.verify(sign(cognito_claims(sub=SUB), new_key)).sub == SUB
    assert jwks.fetches == 2


def test_concurrent_unknown_kids_share_one_fetch(jwks, pool_key):
    import threading

    clock = FakeClock()
    verifier = _verifier(jwks, clock)
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def forge(i: int) -> None:
        barrier.wait(timeout=10)
        try:
            verifier.verify(sign(cognito_claims(sub=SUB), pool_key, kid=f"forged-{i}"))
            outcomes.append("accepted")
        except InvalidToken:
            outcomes.append("refused")

    threads = [threading.Thread(target=forge, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert outcomes == ["refused"] * 20
    assert jwks.fetches == 1


def test_the_api_and_hr_sign_in_share_the_pools_key_cache(settings):
    settings.COGNITO_USER_POOL_ID = "us-east-2_SharedKeys"
    settings.COGNITO_CLIENT_ID = "api-client"
    settings.COGNITO_JWKS_URL = "https://keys.example.test/.well-known/jwks.json"
    api = get_verifier()
    admin = _id_token_verifier(settings.COGNITO_JWKS_URL, api.issuer, "admin-client", 30)
    # One set of keys per process: a rotation is fetched once, not once per caller.
    assert admin.key_provider is api.key_provider
