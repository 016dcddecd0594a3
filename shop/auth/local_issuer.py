"""The local token issuer for development and tests: an RS256 key kept outside the repository.

It signs tokens shaped like Cognito ID tokens, so the production verifier checks them unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from jwt.algorithms import RSAAlgorithm


def _load_or_create_private_key(path: Path) -> rsa.RSAPrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{path} does not hold an RSA private key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Write to a temporary name then rename, so concurrent first starts cannot read half a key.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    if path.exists():
        tmp.unlink()
        return _load_or_create_private_key(path)
    tmp.replace(path)
    return key


class LocalIssuer:
    def __init__(self, *, key_path: Path, issuer: str, client_id: str):
        self.issuer = issuer
        self.client_id = client_id
        self.private_key = _load_or_create_private_key(key_path)
        public_der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = base64.urlsafe_b64encode(hashlib.sha256(public_der).digest()[:12]).decode()

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.public_key))
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    def issue(
        self,
        *,
        email: str,
        name: str = "",
        employee_id: str = "",
        sub: str | None = None,
        lifetime_seconds: int = 3600,
        token_use: str = "id",
        extra: dict[str, Any] | None = None,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": sub or str(uuid.uuid5(uuid.NAMESPACE_URL, f"awsomeshop-local:{email.lower()}")),
            "iss": self.issuer,
            "token_use": token_use,
            "iat": now,
            "auth_time": now,
            "exp": now + lifetime_seconds,
            "jti": str(uuid.uuid4()),
        }
        if token_use == "id":
            claims.update(
                {
                    "aud": self.client_id,
                    "email": email,
                    "email_verified": True,
                    "name": name,
                    "custom:employee_id": employee_id,
                }
            )
        else:
            claims.update({"client_id": self.client_id, "username": email})
        claims.update(extra or {})
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})


_issuer: LocalIssuer | None = None


def get_local_issuer() -> LocalIssuer:
    global _issuer
    if not settings.LOCAL_ISSUER_ENABLED:
        # Production: a key generated per task would sign tokens nobody should trust.
        raise ImproperlyConfigured(
            "The local token issuer is disabled in this environment; set COGNITO_USER_POOL_ID "
            "and COGNITO_CLIENT_ID."
        )
    if _issuer is None:
        _issuer = LocalIssuer(
            key_path=Path(settings.LOCAL_ISSUER_KEY_PATH),
            issuer=settings.LOCAL_ISSUER,
            client_id=settings.LOCAL_CLIENT_ID,
        )
    return _issuer
