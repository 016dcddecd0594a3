"""Where verification keys come from: a JWKS over HTTP (Cognito) or the local issuer's key."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import jwt
import requests
from jwt.algorithms import RSAAlgorithm

from shop.auth.budget import BudgetSpent, time_left

logger = logging.getLogger(__name__)


class KeyUnavailable(Exception):
    """The key is not cached and the key set cannot be fetched now: a 503, not a 401."""


class UnknownKey(Exception):
    """The token names a key the issuer does not publish: a 401."""


class KeyProvider(Protocol):
    def get_key(self, kid: str) -> Any: ...


class StaticKeyProvider:
    """Keys known up front (the local issuer's public key)."""

    def __init__(self, keys: dict[str, Any]):
        self._keys = keys

    def get_key(self, kid: str) -> Any:
        try:
            return self._keys[kid]
        except KeyError:
            raise UnknownKey(kid) from None


def _parse_jwks(document: dict[str, Any]) -> dict[str, Any]:
    """RSA signing keys by `kid`; keys meant for encryption or other algorithms are left out."""
    keys: dict[str, Any] = {}
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise ValueError("JWKS has no keys list")
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not entry.get("kid"):
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", "RS256") != "RS256":
            continue
        keys[entry["kid"]] = RSAAlgorithm.from_jwk(json.dumps(entry))
    return keys


class JWKSKeyProvider:
    """Keys from a JWKS URL, cached by `kid`.

    An unknown `kid` triggers a refetch, but at most once per `min_refetch_interval` seconds
    across all threads, so a burst of forged kids cannot hammer the issuer; key rotation still
    works without a restart.
    """

    def __init__(
        self,
        url: str,
        *,
        min_refetch_interval: float = 10.0,
        timeout: float = 3.0,
        fetch: Callable[[str, float], dict[str, Any]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.url = url
        self.min_refetch_interval = min_refetch_interval
        self.timeout = timeout
        self._fetch = fetch or self._http_fetch
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._last_fetch: float | None = None
        self._last_fetch_failed = False
        self._lock = threading.Lock()
        self.fetch_count = 0

    @staticmethod
    def _http_fetch(url: str, timeout: float) -> dict[str, Any]:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("JWKS is not a JSON object")
        return document

    def get_key(self, kid: str) -> Any:
        key = self._keys.get(kid)
        if key is not None:
            return key
        with self._lock:
            key = self._keys.get(kid)
            if key is not None:
                return key
            now = self._clock()
            if self._last_fetch is not None and now - self._last_fetch < self.min_refetch_interval:
                # Too soon to ask again. If the last attempt failed, trust cannot be decided
                # (503); if it succeeded, the issuer does not publish this kid (401).
                if self._last_fetch_failed:
                    raise KeyUnavailable(self.url)
                raise UnknownKey(kid)
            try:
                timeout = time_left(self.timeout)
            except BudgetSpent as exc:
                raise KeyUnavailable(self.url) from exc
            self._last_fetch = now
            self.fetch_count += 1
            try:
                document = self._fetch(self.url, timeout)
                fresh = _parse_jwks(document)
            except (requests.RequestException, ValueError, TypeError, jwt.InvalidKeyError) as exc:
                logger.warning("could not fetch JWKS from %s: %s", self.url, exc)
                self._last_fetch_failed = True
                raise KeyUnavailable(self.url) from exc
            self._last_fetch_failed = False
            # Keep keys we already trust: a JWKS briefly missing a key must not lock users out.
            self._keys = {**self._keys, **fresh}
            key = self._keys.get(kid)
            if key is None:
                raise UnknownKey(kid)
            return key
