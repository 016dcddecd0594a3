"""What authentication costs per API request: the token's signature check and the user lookup.

Usage (the database is migrated; one employee is added to it):
    DATABASE_URL=mysql://root@127.0.0.1:3306/awsomeshop_bench .venv/bin/python bench/bench_auth.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/awsomeshop_bench .venv/bin/python bench/bench_auth.py

Times N repetitions of each step on its own (time.perf_counter_ns) after a warm-up, and prints
median and p95: `verify` is TokenVerifier.verify (RS256, 2048-bit key, the Cognito rules), `verify,
remembered` the same token again with JWT_VERIFIED_CACHE_SIZE on (the default),
`lookup` is the employee by token subject with the points account joined (one query over a
persistent connection), `both` is what BearerTokenAuthentication does for a known employee.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "awsomeshop.settings.test")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.test import APIRequestFactory  # noqa: E402

from bench.support import timed as support_timed  # noqa: E402
from shop.access.authentication import BearerTokenAuthentication  # noqa: E402
from shop.auth.factory import get_verifier  # noqa: E402
from shop.auth.local_issuer import get_local_issuer  # noqa: E402
from shop.auth.verifier import TokenVerifier  # noqa: E402
from shop.identity.selectors import user_get_by_cognito_sub  # noqa: E402
from shop.identity.services import user_create  # noqa: E402

N = int(os.environ.get("BENCH_N", "2000"))


def timed(name: str, op: Callable[[], object]) -> None:
    support_timed(name, op, n=N, warmup=200, width=20)


def main() -> None:
    call_command("migrate", verbosity=0)
    sub = str(uuid.uuid4())
    email = f"auth-bench-{sub[:8]}@example.com"
    user_create(email=email, name="Auth bench", cognito_sub=sub)
    token = get_local_issuer().issue(email=email, sub=sub)
    verifier = get_verifier()
    uncached = TokenVerifier(
        key_provider=verifier.key_provider, issuer=verifier.issuer, client_id=verifier.client_id, cache_size=0
    )
    request = APIRequestFactory().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    auth = BearerTokenAuthentication()
    print(f"database: {connection.vendor}, {N} repetitions each")
    timed("verify", lambda: uncached.verify(token))
    timed("verify, remembered", lambda: verifier.verify(token))
    timed("lookup", lambda: user_get_by_cognito_sub(sub=sub))
    timed("both", lambda: auth.authenticate(request))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
