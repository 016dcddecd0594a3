"""Benchmark: how long verifying one Cognito token takes once the pool's key is cached.

Measures `TokenVerifier.verify` as production runs it in Cognito mode (JWKS key provider,
RS256, 2048-bit key, the pool's claims), with the key already in the cache, so the figure is
the per-request cost of authentication before any database access. Each verification is timed
on its own; the script prints median, p95 and p99 in microseconds for ID and access tokens.

Usage: python bench/bench_verify.py [--n 5000]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shop.auth.keys import JWKSKeyProvider
from shop.auth.verifier import TokenVerifier

POOL = "us-east-2_BenchPool"
ISSUER = f"https://cognito-idp.us-east-2.amazonaws.com/{POOL}"
CLIENT = "bench-app-client"


def _tokens(key: rsa.RSAPrivateKey, kid: str) -> dict[str, str]:
    now = int(time.time())
    base = {"sub": str(uuid.uuid4()), "iss": ISSUER, "iat": now, "auth_time": now, "exp": now + 3600}
    id_claims = {
        **base,
        "token_use": "id",
        "aud": CLIENT,
        "email": "bench@example.com",
        "email_verified": True,
        "name": "Bench Mark",
        "custom:employee_id": "B0001",
    }
    access_claims = {
        **base,
        "token_use": "access",
        "client_id": CLIENT,
        "scope": "aws.cognito.signin.user.admin",
    }
    return {
        kind: jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
        for kind, claims in (("id", id_claims), ("access", access_claims))
    }


def _percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="verifications per token kind")
    args = parser.parse_args()

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = "bench-kid"
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    fetches = 0

    def fetch(url: str, timeout: float) -> dict[str, Any]:
        nonlocal fetches
        fetches += 1
        return {"keys": [jwk]}

    verifier = TokenVerifier(
        key_provider=JWKSKeyProvider("https://example.invalid/jwks.json", fetch=fetch),
        issuer=ISSUER,
        client_id=CLIENT,
    )
    tokens = _tokens(key, kid)
    for token in tokens.values():  # warm the key cache and the interpreter
        for _ in range(200):
            verifier.verify(token)

    print(f"python {platform.python_version()}, PyJWT {jwt.__version__}, {platform.machine()}, n={args.n}")
    for kind, token in tokens.items():
        samples: list[float] = []
        for _ in range(args.n):
            started = time.perf_counter_ns()
            verifier.verify(token)
            samples.append((time.perf_counter_ns() - started) / 1000)
        samples.sort()
        print(
            f"{kind:>6} token: median {statistics.median(samples):7.1f} us   "
            f"p95 {_percentile(samples, 0.95):7.1f} us   p99 {_percentile(samples, 0.99):7.1f} us   "
            f"mean {statistics.fmean(samples):7.1f} us"
        )
    print(f"JWKS fetches during the run: {fetches} (1 = the cache was warm throughout)")


if __name__ == "__main__":
    main()
