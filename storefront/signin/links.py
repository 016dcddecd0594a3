"""One-time sign-in links for working offline (``manage.py storefront_login_url``).

A link's token is signed, not stored: ``django.core.signing`` with a timestamp (expiry) over
the employee's id and a fingerprint of their account that includes ``last_login``. Using the
link sets ``last_login`` under a lock on the employee's row, so the fingerprint no longer
matches and the link (and any older link for that employee, and any link issued before a
company sign-in) is spent. Nothing lives in process memory or needs cleaning up, and every
gunicorn worker checks a link the same way; two simultaneous uses queue on the row lock and the
second finds the link spent. Production never accepts these links (STOREFRONT_LOCAL_SIGN_IN).
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from shop.auth.oidc_sign_in import SignInRefused
from shop.models import User
from storefront.signin.services import employee_sign_in_check

SALT = "storefront.signin.link"

NEW_LINK = "manage.py storefront_login_url --email <your address>"


def _fingerprint(user: User) -> str:
    last = user.last_login.isoformat() if user.last_login else ""
    value = f"{user.pk}|{user.email}|{user.is_active}|{user.is_employee}|{last}"
    return salted_hmac(SALT, value, algorithm="sha256").hexdigest()[:32]


def sign_in_link_token(*, user: User) -> str:
    """A token for one sign-in of this employee, good for STOREFRONT_SIGN_IN_LINK_SECONDS."""
    employee_sign_in_check(user=user)
    return signing.dumps({"u": str(user.pk), "f": _fingerprint(user)}, salt=SALT)


def sign_in_link_use(*, token: str) -> User:
    """The employee the token signs in, spending it; raises SignInRefused for a spent or bad one."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.STOREFRONT_SIGN_IN_LINK_SECONDS)
    except signing.SignatureExpired as exc:
        raise SignInRefused(
            _("This sign-in link has expired. Print a new one with: %(command)s") % {"command": NEW_LINK},
            reason="link_expired",
        ) from exc
    except signing.BadSignature as exc:
        raise SignInRefused(_("This sign-in link is not valid."), reason="link_invalid") from exc
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=data.get("u")).first()
        if user is None or not constant_time_compare(_fingerprint(user), str(data.get("f", ""))):
            raise SignInRefused(
                _("This sign-in link was already used. Print a new one with: %(command)s")
                % {"command": NEW_LINK},
                reason="link_used",
            )
        employee_sign_in_check(user=user)
        user.last_login = timezone.now()
        user.save(update_fields=["last_login"])
    return user
