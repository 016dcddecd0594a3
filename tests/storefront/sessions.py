"""Signing a test's employee in to the storefront without the identity provider.

The sign-in itself (Cognito's hosted UI, the one-time local link) has its own tests; the page
tests start from a signed-in session, made the way ``django.contrib.auth.login`` makes it.
"""

from __future__ import annotations

from django.test import Client

from shop.models import User
from tests.support.storefront_session import STOREFRONT_SIGN_IN_BACKEND


def signed_in_client(user: User) -> Client:
    client = Client()
    client.force_login(user, backend=STOREFRONT_SIGN_IN_BACKEND)
    return client
