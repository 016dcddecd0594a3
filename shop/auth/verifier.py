"""Verifies bearer tokens by the Cognito rules, whoever issued them.

The same code checks Cognito tokens in production and local-issuer tokens in development:
only the key provider, the issuer and the client id differ. Rules (AWS's guide to verifying
Cognito JWTs): RS256 only, key by `kid`, `exp` with a small leeway, `iss`, `token_use`
(`id` or `access`), and `aud` (ID tokens) or `client_id` (access tokens).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

from shop.auth.keys import KeyProvider, KeyUnavailable, UnknownKey

# Hard-coded on purpose: the algorithm is never taken from the token header.
ALGORITHMS = ["RS256"]


class InvalidToken(Exception):
    """The token is not one we trust (a 401).

    ``reason`` is a short fixed word for metrics (``AuthFailure`` by reason); the message is for logs.
    """

    def __init__(self, message: str, *, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


def _reason_for(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "expired"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "bad_signature"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "wrong_issuer"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "not_yet_valid"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return "missing_claim"
    return "invalid"


class VerifierUnavailable(Exception):
    """Trust cannot be decided now, e.g. the key set is unreachable (a 503)."""


@dataclass(frozen=True)
class Claims:
    sub: str
    token_use: str
    email: str | None
    email_verified: bool
    name: str | None
    employee_id: str | None
    raw: dict[str, Any]


def _now() -> float:
    return time.time()


class TokenVerifier:
    """Verifies tokens; with `cache_size`, remembers up to that many verified tokens.

    A client sends the same token with every request for up to an hour. Its signature, issuer
    and audience cannot change, so a token verified once is accepted again on its `exp` check
    alone, skipping the RSA check and PyJWT's parsing (0.17 ms at the median, measured by
    bench/bench_verify.py; bench/RESULTS.md, "Token verification").
    The cost: a token stays accepted until it expires even if its signing key is withdrawn
    from the pool's key set meanwhile; Cognito tokens live an hour at most.
    """

    def __init__(
        self, *, key_provider: KeyProvider, issuer: str, client_id: str, leeway: int = 30, cache_size: int = 0
    ):
        self.key_provider = key_provider
        self.issuer = issuer
        self.client_id = client_id
        self.leeway = leeway
        self.cache_size = cache_size
        # Plain dict operations are atomic, so threads (gthread workers) can share it.
        self._verified: dict[str, Claims] = {}

    def verify(self, token: str) -> Claims:
        claims = self._verified.get(token)
        if claims is not None:
            if _now() <= claims.raw["exp"] + self.leeway:
                return claims
            self._verified.pop(token, None)
            raise InvalidToken("Signature has expired", reason="expired")
        claims = self._verify(token)
        if self.cache_size > 0:
            if len(self._verified) >= self.cache_size:
                self._verified.clear()  # rarely full; simpler than an LRU and as bounded
            self._verified[token] = claims
        return claims

    def _verify(self, token: str) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token", reason="malformed") from exc
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken("unsupported algorithm", reason="bad_algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("token has no key id", reason="malformed")
        try:
            key = self.key_provider.get_key(kid)
        except UnknownKey as exc:
            raise InvalidToken("unknown key id", reason="unknown_key") from exc
        except KeyUnavailable as exc:
            raise VerifierUnavailable("the issuer's keys cannot be fetched") from exc
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc), reason=_reason_for(exc)) from exc
        token_use = claims.get("token_use")
        if token_use == "id":
            # Cognito writes one app client id as a string; anything else is not our token.
            if claims.get("aud") != self.client_id:
                raise InvalidToken("token is for another app client", reason="wrong_audience")
        elif token_use == "access":
            if claims.get("client_id") != self.client_id:
                raise InvalidToken("token is for another app client", reason="wrong_audience")
        else:
            raise InvalidToken("token_use must be id or access", reason="wrong_token_use")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise InvalidToken("token has no subject", reason="missing_claim")
        email = claims.get("email")
        verified = claims.get("email_verified")
        return Claims(
            sub=sub,
            token_use=token_use,
            email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
            email_verified=verified is True or verified == "true",
            name=claims.get("name") if isinstance(claims.get("name"), str) else None,
            employee_id=(
                claims.get("custom:employee_id")
                if isinstance(claims.get("custom:employee_id"), str)
                else None
            ),
            raw=claims,
        )
