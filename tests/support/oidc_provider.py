"""A small OpenID Connect provider for the tests, standing in for Cognito's hosted UI.

moto's Cognito server implements the user-pool API but not the hosted UI's /oauth2 endpoints,
so the admin's sign-in is driven against this provider instead: a real HTTP server in a thread
that speaks the authorization code flow the way Cognito does and issues RS256 ID tokens with
Cognito's claims (``token_use``, ``cognito:groups`` left out when empty, ``cognito:username``,
``email_verified``, ``nonce``, ``aud`` = the app client). PKCE is checked for real: the token
endpoint recomputes S256 of the ``code_verifier`` and refuses a mismatch with ``invalid_grant``.
The confidential client authenticates with HTTP Basic, as Cognito's token endpoint expects.

``/logout`` ends the provider's session (forgets ``identity``) and redirects to ``logout_uri``
when it is one of ``logout_uris``, as Cognito does for an app client's sign-out URLs.

What it does not emulate: the login form (``authorize`` signs in whoever the test set as
``provider.identity``), refresh tokens, and the userInfo endpoint's full claim set.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


@dataclass
class Identity:
    """The person who "signs in" at the provider's authorize endpoint."""

    email: str
    sub: str = field(default_factory=lambda: str(uuid.uuid4()))
    name: str = ""
    groups: list[str] = field(default_factory=list)
    email_verified: bool = True


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    identity: Identity
    expires: float


@dataclass
class OidcProvider:
    base_url: str
    pool_id: str
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    key: Any
    kid: str = field(default_factory=lambda: uuid.uuid4().hex)
    identity: Identity | None = None
    # Where /logout may send the browser back to (Cognito's "sign-out URLs").
    logout_uris: list[str] = field(default_factory=list)
    # Requests as received, for assertions: {"path", "params", "headers"}.
    logout_requests: list[dict[str, Any]] = field(default_factory=list)
    authorize_requests: list[dict[str, Any]] = field(default_factory=list)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    # Claims to override in the next ID tokens (e.g. {"aud": "another-client"}).
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    _grants: dict[str, _Grant] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        # Cognito's issuer is cognito-idp.<region>.amazonaws.com/<pool>, not the hosted-UI domain.
        return f"{self.base_url}/{self.pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    # -- the endpoints -----------------------------------------------------------------------

    def authorize(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.authorize_requests.append({"params": params})
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != self.client_id or redirect_uri not in self.redirect_uris:
            return 400, {}, b"invalid client_id or redirect_uri"
        if params.get("response_type") != "code":
            return self._redirect(redirect_uri, error="unsupported_response_type", state=params.get("state"))
        scopes = params.get("scope", "").split()
        if "openid" not in scopes:
            return self._redirect(redirect_uri, error="invalid_scope", state=params.get("state"))
        method = params.get("code_challenge_method")
        if params.get("code_challenge") and method != "S256":
            return self._redirect(redirect_uri, error="invalid_request", state=params.get("state"))
        if self.identity is None:
            return self._redirect(redirect_uri, error="access_denied", state=params.get("state"))
        code = secrets.token_urlsafe(24)
        self._grants[code] = _Grant(
            client_id=self.client_id,
            redirect_uri=redirect_uri,
            nonce=params.get("nonce"),
            code_challenge=params.get("code_challenge"),
            code_challenge_method=method,
            identity=self.identity,
            expires=time.time() + 300,
        )
        return self._redirect(redirect_uri, code=code, state=params.get("state"))

    def token(self, form: dict[str, str], headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.token_requests.append({"params": form, "headers": headers})
        client_id, secret = self._basic_credentials(headers.get("authorization", ""))
        if client_id != self.client_id or secret != self.client_secret:
            return self._json(401, {"error": "invalid_client"})
        if form.get("grant_type") != "authorization_code":
            return self._json(400, {"error": "unsupported_grant_type"})
        grant = self._grants.pop(form.get("code", ""), None)  # a code is good for one exchange
        if grant is None or grant.expires < time.time() or grant.client_id != client_id:
            return self._json(400, {"error": "invalid_grant"})
        if form.get("redirect_uri") != grant.redirect_uri:
            return self._json(400, {"error": "invalid_grant"})
        if grant.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode("ascii")).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
            if not verifier or expected != grant.code_challenge:
                return self._json(400, {"error": "invalid_grant"})
        now = int(time.time())
        identity = grant.identity
        claims: dict[str, Any] = {
            "sub": identity.sub,
            "aud": self.client_id,
            "email_verified": identity.email_verified,
            "iss": self.issuer,
            "cognito:username": identity.sub,
            "origin_jti": str(uuid.uuid4()),
            "token_use": "id",
            "auth_time": now,
            "exp": now + 3600,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "email": identity.email,
        }
        if identity.name:
            claims["name"] = identity.name
        if identity.groups:
            claims["cognito:groups"] = list(identity.groups)
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        claims.update(self.id_token_overrides)
        id_token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})
        access = {
            "sub": identity.sub,
            "iss": self.issuer,
            "client_id": self.client_id,
            "token_use": "access",
            "scope": "openid email profile",
            "auth_time": now,
            "exp": now + 3600,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "username": identity.sub,
        }
        access_token = jwt.encode(access, self.key, algorithm="RS256", headers={"kid": self.kid})
        return self._json(
            200,
            {"id_token": id_token, "access_token": access_token, "token_type": "Bearer", "expires_in": 3600},
        )

    def logout(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.logout_requests.append({"params": params})
        if params.get("client_id") != self.client_id or params.get("logout_uri") not in self.logout_uris:
            return 400, {}, b"invalid client_id or logout_uri"
        self.identity = None
        return 302, {"Location": params["logout_uri"]}, b""

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _basic_credentials(header: str) -> tuple[str | None, str | None]:
        if not header.lower().startswith("basic "):
            return None, None
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except ValueError:
            return None, None
        user, _, password = decoded.partition(":")
        return user, password

    @staticmethod
    def _redirect(uri: str, **params: str | None) -> tuple[int, dict[str, str], bytes]:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return 302, {"Location": f"{uri}?{query}"}, b""

    @staticmethod
    def _json(status: int, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


def _handler(provider: OidcProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, result: tuple[int, dict[str, str], bytes]) -> None:
            status, headers, body = result
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/oauth2/authorize":
                self._send(provider.authorize(params))
            elif parts.path == "/logout":
                self._send(provider.logout(params))
            elif parts.path == f"/{provider.pool_id}/.well-known/jwks.json":
                self._send(provider._json(200, provider.jwks()))
            else:
                self._send((404, {}, b"not found"))

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            if parts.path == "/oauth2/token":
                self._send(provider.token(form, headers))
            else:
                self._send((404, {}, b"not found"))

    return Handler


_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@contextmanager
def running_provider(
    *, client_id: str, client_secret: str, redirect_uris: list[str], logout_uris: list[str] | None = None
) -> Iterator[OidcProvider]:
    """A provider on a free loopback port, stopped afterwards."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    provider = OidcProvider(
        base_url=base_url,
        pool_id="us-east-2_TestPool1",
        client_id=client_id,
        client_secret=client_secret,
        redirect_uris=redirect_uris,
        logout_uris=list(logout_uris or []),
        key=_KEY,
    )
    server.RequestHandlerClass = _handler(provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
