"""Cognito ID and access tokens verified on every request, as the design documents ask.

The keys come from the pool's JWKS, fetched at start-up and again for an unknown `kid` (at
most once per 10 s). The design says "direct validation, no caching": unlike the product,
which remembers tokens it verified, every request pays the RS256 signature check.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import jwt
from jwt.algorithms import RSAAlgorithm

LEEWAY_SECONDS = 30
REFETCH_EVERY_SECONDS = 10.0


class AuthError(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


@dataclass
class Verifier:
    jwks_url: str
    issuer: str
    client_id: str
    keys: dict[str, Any] = field(default_factory=dict)
    fetched_at: float = 0.0

    @classmethod
    def from_environment(cls) -> Verifier:
        return cls(
            jwks_url=os.environ["COGNITO_JWKS_URL"],
            issuer=os.environ["COGNITO_ISSUER"],
            client_id=os.environ["COGNITO_CLIENT_ID"],
        )

    def fetch_keys(self) -> None:
        with urllib.request.urlopen(self.jwks_url, timeout=5) as response:
            document = json.load(response)
        self.keys = {
            entry["kid"]: RSAAlgorithm.from_jwk(entry)
            for entry in document.get("keys", [])
            if entry.get("kty") == "RSA"
        }
        self.fetched_at = time.monotonic()

    async def _key_for(self, kid: str) -> Any:
        key = self.keys.get(kid)
        if key is None and time.monotonic() - self.fetched_at >= REFETCH_EVERY_SECONDS:
            # A rotated pool key: fetch once, off the event loop.
            await asyncio.to_thread(self.fetch_keys)
            key = self.keys.get(kid)
        if key is None:
            raise AuthError(401, "authentication_failed", "The token is signed by an unknown key.")
        return key

    async def verify(self, authorization: str | None) -> dict[str, Any]:
        """The token's claims, or AuthError (401) for a missing, forged, expired or foreign one."""
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthError(401, "not_authenticated", "Authentication credentials were not provided.")
        token = authorization[len("Bearer ") :]
        try:
            header = jwt.get_unverified_header(token)
            key = await self._key_for(str(header.get("kid", "")))
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(401, "authentication_failed", "The token is invalid or expired.") from exc
        token_use = claims.get("token_use")
        audience = claims.get("aud") if token_use == "id" else claims.get("client_id")
        if token_use not in ("id", "access") or audience != self.client_id:
            raise AuthError(401, "authentication_failed", "The token is not for this application.")
        return claims
