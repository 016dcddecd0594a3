"""One one-time link used by several requests at the same moment signs in exactly one of them."""

from __future__ import annotations

import pytest

from shop.auth.oidc_sign_in import SignInRefused
from shop.models import User
from storefront.signin.links import sign_in_link_token, sign_in_link_use
from tests.factories import UserFactory
from tests.support.markers import requires_server_db
from tests.support.threads import run_at_once


@requires_server_db
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_eight_simultaneous_uses_of_one_link_sign_in_once():
    # Several rounds, because which interleaving happens is up to the server.
    for round_ in range(5):
        user = UserFactory(email=f"racer{round_}@example.com")
        token = sign_in_link_token(user=user)

        results = run_at_once(8, lambda i, token=token: sign_in_link_use(token=token))

        used = [r for r in results if isinstance(r, User)]
        refused = [r for r in results if isinstance(r, SignInRefused)]
        assert len(used) == 1 and len(refused) == 7, results
        assert {r.reason for r in refused} == {"link_used"}
