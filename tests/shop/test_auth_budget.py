"""The identity provider's calls share one time budget per request (AUTH_NETWORK_BUDGET_SECONDS).

A stalled endpoint is a listening socket that never answers: connections complete, requests
are sent, nothing comes back. Before the budget, GetUser alone held a worker for about 15 s.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from shop.auth.budget import network_budget
from shop.auth.cognito_profile import claims_complete_from_cognito
from shop.auth.keys import JWKSKeyProvider, KeyUnavailable
from shop.auth.verifier import Claims, VerifierUnavailable


@pytest.fixture
def stalled_url() -> Iterator[str]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)  # never accepted: the kernel completes the handshake, nobody answers
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()


def _access_claims() -> Claims:
    return Claims(
        sub="sub-stalled",
        token_use="access",
        email=None,
        email_verified=False,
        name=None,
        employee_id=None,
        raw={},
    )


def test_a_stalled_getuser_is_503_within_the_budget(settings, stalled_url, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.COGNITO_ENDPOINT_URL = stalled_url
    started = time.monotonic()
    with network_budget(1.0), pytest.raises(VerifierUnavailable):
        claims_complete_from_cognito(claims=_access_claims(), access_token="token")
    assert time.monotonic() - started < 2.0


def test_jwks_and_getuser_share_one_budget(settings, stalled_url, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.COGNITO_ENDPOINT_URL = stalled_url
    keys = JWKSKeyProvider(f"{stalled_url}/.well-known/jwks.json", timeout=3.0)
    started = time.monotonic()
    with network_budget(1.5):
        with pytest.raises(KeyUnavailable):
            keys.get_key("kid-1")  # takes the whole budget: its own 3 s timeout is capped
        spent = time.monotonic() - started
        with pytest.raises(VerifierUnavailable):
            claims_complete_from_cognito(claims=_access_claims(), access_token="token")
    total = time.monotonic() - started
    assert 1.2 < spent < 2.0
    assert total - spent < 0.5  # nothing was left for GetUser: refused without calling out


def test_without_a_budget_the_call_keeps_its_own_timeout(stalled_url):
    keys = JWKSKeyProvider(f"{stalled_url}/.well-known/jwks.json", timeout=0.3)
    started = time.monotonic()
    with pytest.raises(KeyUnavailable):
        keys.get_key("kid-1")
    assert time.monotonic() - started < 1.0
