"""The storefront's authentication backend: Cognito sign-in on the storefront's own app client."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet

from shop.auth.oidc_sign_in import CognitoSignInBackend
from shop.auth.verifier import Claims
from shop.db.prepared import PreparedLookup
from shop.http.middleware import preloaded_user
from shop.models import User
from storefront.signin.services import employee_for_claims

# mozilla-django-oidc's names, read as the storefront client's settings (the admin keeps the
# library's own names); endpoints are the same hosted UI's, named apart so either client can be
# configured, or tested, without the other.
STOREFRONT_SETTING_NAMES = {
    "OIDC_ENABLED": "STOREFRONT_OIDC_ENABLED",
    "OIDC_ISSUER": "STOREFRONT_OIDC_ISSUER",
    "OIDC_RP_CLIENT_ID": "STOREFRONT_OIDC_CLIENT_ID",
    "OIDC_RP_CLIENT_SECRET": "STOREFRONT_OIDC_CLIENT_SECRET",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "STOREFRONT_OIDC_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT": "STOREFRONT_OIDC_TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT": "STOREFRONT_OIDC_USER_ENDPOINT",
    "OIDC_OP_JWKS_ENDPOINT": "STOREFRONT_OIDC_JWKS_ENDPOINT",
    "OIDC_AUTHENTICATION_CALLBACK_URL": "STOREFRONT_OIDC_CALLBACK_URL",
}


def _user_by_pk_query(value: object) -> QuerySet[User]:
    # ``value`` is a UUID (shop.db.prepared compiles with one standing in for it).
    return User.objects.select_related(*settings.API_USER_SELECT_RELATED).filter(pk=value).order_by()  # type: ignore[misc]


_USER_BY_PK = PreparedLookup(
    _user_by_pk_query, key=lambda: tuple(settings.API_USER_SELECT_RELATED), field=User._meta.pk
)


class StorefrontSignInBackend(CognitoSignInBackend):
    """Employees' sign-in, and the user of every storefront session (OIDC or one-time link).

    A storefront session is an employee's, never a back-office one: an employee who is also HR
    gets ``is_staff`` (and ``is_superuser``) cleared on the session's user object, in memory
    only, so signing in to the shop does not open the admin, which HR enters through its own
    sign-in and its HR-group check. Nothing saves that object whole (services save with
    ``update_fields``), so the flags stay as they are in the database.
    """

    oidc_client: ClassVar[str] = "storefront"
    oidc_setting_names = STOREFRONT_SETTING_NAMES

    def user_for_claims(self, claims: Claims) -> User:
        return employee_for_claims(claims=claims)

    def get_user(self, user_id: Any) -> User | None:
        # Deactivated users are returned: storefront.access signs them out with a message.
        # The points account comes in the same query, as on the API. Every storefront page
        # runs this, so the statement is compiled once per database (shop.db.prepared).
        # Usually the user came with the session, in its query (awsomeshop/sessions.py).
        user = preloaded_user(user_id)
        if user is None:
            try:
                user = _USER_BY_PK.first(connection, user_id)
            except (ValueError, ValidationError):
                return None  # a session from before the ids were UUIDs, or a tampered one
        if user is not None:
            user.is_staff = False
            user.is_superuser = False
        return user
