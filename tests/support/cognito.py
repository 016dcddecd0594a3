"""Test doubles for Cognito: RSA keys we control, a JWKS served over real HTTP, and moto's server.

`JwksServer` plays the pool's `/.well-known/jwks.json`: the tests change the keys it publishes
(rotation), count its fetches and can take it down. `MotoCognito` is a real Cognito API
(moto's server mode) on a free local port, for signing in and calling GetUser as production does.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

REGION = "us-east-2"
POOL_ID = "us-east-2_TestPool1"
OTHER_POOL_ID = "us-east-2_OtherPool"
CLIENT_ID = "test-app-client"
OTHER_CLIENT_ID = "another-app-client"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def issuer_for(pool_id: str) -> str:
    return f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def jwk(self) -> dict[str, Any]:
        entry = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        entry.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return entry


def cognito_claims(
    *, token_use: str = "id", sub: str | None = None, email: str = "ann@example.com", **extra: Any
) -> dict[str, Any]:
    """Claims shaped like the pool's tokens for our client, as AWS documents them."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub or str(uuid.uuid4()),
        "iss": issuer_for(POOL_ID),
        "token_use": token_use,
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "jti": str(uuid.uuid4()),
    }
    if token_use == "id":
        claims.update(
            {
                "aud": CLIENT_ID,
                "email": email,
                "email_verified": True,
                "name": "Ann Example",
                "custom:employee_id": "E4242",
                "cognito:username": claims["sub"],
            }
        )
    else:
        claims.update(
            {"client_id": CLIENT_ID, "username": claims["sub"], "scope": "aws.cognito.signin.user.admin"}
        )
    claims.update(extra)
    return {k: v for k, v in claims.items() if v is not None}


def sign(claims: dict[str, Any], key: SigningKey, *, kid: str | None = None) -> str:
    return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": kid or key.kid})


class JwksServer:
    """Serves a JWKS document we can change, on 127.0.0.1, counting the fetches."""

    def __init__(self) -> None:
        self.keys: list[SigningKey] = []
        self.fetches = 0
        self.fail = False
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with owner._lock:
                    owner.fetches += 1
                    failing = owner.fail
                    body = json.dumps({"keys": [k.jwk() for k in owner.keys]}).encode()
                if failing:
                    self.send_response(503)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/{POOL_ID}/.well-known/jwks.json"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> JwksServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class MotoCognito:
    """moto's Cognito server on a free port: the same boto3 calls production makes reach it."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def start(self) -> MotoCognito:
        self._server.start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._server.stop()

    def client(self) -> Any:
        import boto3

        return boto3.client("cognito-idp", region_name=REGION, endpoint_url=self.url)

    def jwks_url(self, pool_id: str) -> str:
        # moto serves each pool's keys at /<pool_id>/.well-known/jwks.json on its own address,
        # while its tokens name the real AWS issuer: hence the JWKS override, not the issuer's.
        return f"{self.url}/{pool_id}/.well-known/jwks.json"
