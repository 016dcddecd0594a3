"""Production's sign-in for the benchmarks: Cognito tokens checked against a local JWKS.

Production accepts only Cognito ID tokens, for one host name, behind a TLS-terminating load
balancer (the local issuer is off there). The benchmarks run it that way, as the fault drills
do: a JWKS endpoint in the benchmark's own process publishes a key the benchmark signs
Cognito-shaped tokens with, and the pool, client, JWKS address, issuer and host are set in the
environment before Django starts (a server started from the benchmark inherits them). Requests
carry `PROXIED`'s Host and `X-Forwarded-Proto`, as the load balancer sends them.
"""

from __future__ import annotations

import os

from tests.support.cognito import CLIENT_ID, POOL_ID, JwksServer, SigningKey, issuer_for

HOST = "shop.bench.test"
PROXIED = {"HTTP_HOST": HOST, "HTTP_X_FORWARDED_PROTO": "https"}


def local_cognito(*, kid: str) -> tuple[JwksServer, SigningKey]:
    """A JWKS server (not yet started) holding a new signing key, and the settings naming it."""
    key = SigningKey(kid=kid)
    jwks = JwksServer()
    jwks.keys.append(key)
    os.environ.update(
        {
            "COGNITO_USER_POOL_ID": POOL_ID,
            "COGNITO_CLIENT_ID": CLIENT_ID,
            "COGNITO_JWKS_URL": jwks.url,
            "COGNITO_ISSUER": issuer_for(POOL_ID),
            "APP_DOMAIN": HOST,
        }
    )
    return jwks, key
