"""Verified tokens are remembered until they expire: the next request skips the signature check,
never the expiry check."""

from __future__ import annotations

import pytest

import shop.auth.verifier as verifier_module
from shop.auth.keys import StaticKeyProvider
from shop.auth.local_issuer import get_local_issuer
from shop.auth.verifier import InvalidToken, TokenVerifier


class CountingKeys(StaticKeyProvider):
    def __init__(self) -> None:
        issuer = get_local_issuer()
        super().__init__({issuer.kid: issuer.public_key})
        self.lookups = 0

    def get_key(self, kid: str):  # type: ignore[no-untyped-def]
        self.lookups += 1
        return super().get_key(kid)


def _verifier(cache_size: int) -> tuple[TokenVerifier, CountingKeys]:
    keys = CountingKeys()
    issuer = get_local_issuer()
    return (
        TokenVerifier(
            key_provider=keys,
            issuer=issuer.issuer,
            client_id=issuer.client_id,
            leeway=30,
            cache_size=cache_size,
        ),
        keys,
    )


def test_a_verified_token_is_not_verified_again():
    verifier, keys = _verifier(cache_size=10)
    token = get_local_issuer().issue(email="a@example.com", sub="sub-a")
    assert verifier.verify(token).sub == verifier.verify(token).sub == "sub-a"
    assert keys.lookups == 1


def test_without_a_cache_every_request_is_verified():
    verifier, keys = _verifier(cache_size=0)
    token = get_local_issuer().issue(email="a@example.com", sub="sub-a")
    verifier.verify(token)
    verifier.verify(token)
    assert keys.lookups == 2


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch):
    verifier, _ = _verifier(cache_size=10)
    token = get_local_issuer().issue(email="a@example.com", sub="sub-a", lifetime_seconds=60)
    exp = verifier.verify(token).raw["exp"]
    monkeypatch.setattr(verifier_module, "_now", lambda: exp + 30)
    assert verifier.verify(token).sub == "sub-a"  # within the leeway
    monkeypatch.setattr(verifier_module, "_now", lambda: exp + 31)
    with pytest.raises(InvalidToken) as refused:
        verifier.verify(token)
    # Counted as an expiry (AuthFailure{Reason=expired}), as the first verification would.
    assert refused.value.reason == "expired"


def test_the_cache_stays_bounded():
    verifier, _ = _verifier(cache_size=3)
    for n in range(7):
        verifier.verify(get_local_issuer().issue(email=f"u{n}@example.com", sub=f"sub-{n}"))
    assert len(verifier._verified) <= 3


def test_a_refused_token_is_not_remembered():
    verifier, keys = _verifier(cache_size=10)
    token = get_local_issuer().issue(email="a@example.com", sub="sub-a")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for _ in range(2):
        with pytest.raises(InvalidToken):
            verifier.verify(tampered)
    assert keys.lookups == 2
