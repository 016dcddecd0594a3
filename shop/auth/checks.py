"""System checks that make production fail closed (run by `manage.py check` and at WSGI start).

Production (``LOCAL_ISSUER_ENABLED = False``) must name the Cognito pool and app client whose
tokens it trusts, and the host names it serves: without them it would either accept nobody or,
as it once did, fall back to a development issuer with a key generated per task.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

COGNITO_SETTINGS = ("COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID")


@checks.register(checks.Tags.security)
def production_fails_closed(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if settings.LOCAL_ISSUER_ENABLED:
        return []
    errors: list[checks.CheckMessage] = []
    missing = [name for name in COGNITO_SETTINGS if not getattr(settings, name, "")]
    if missing:
        errors.append(
            checks.Error(
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set.",
                hint="Production accepts Cognito tokens only; the local issuer cannot be enabled. "
                "Set both to the user pool and app client the API trusts.",
                id="shop.E001",
            )
        )
    if not settings.ALLOWED_HOSTS:
        errors.append(
            checks.Error(
                "No host name is configured (APP_DOMAIN, ALLOWED_HOSTS).",
                hint="Set APP_DOMAIN to the name clients use; health checks by IP need none.",
                id="shop.E002",
            )
        )
    if "*" in settings.ALLOWED_HOSTS:
        errors.append(
            checks.Error(
                "ALLOWED_HOSTS contains '*'.",
                hint="Name the hosts; the load balancer's health checks by IP are served without one.",
                id="shop.E003",
            )
        )
    return errors


def refuse_to_serve_if_misconfigured() -> None:
    """Raises unless the security checks pass; the WSGI entry point calls it at start-up.

    Gunicorn does not run system checks, so without this a misconfigured production task would
    start and fail on each request instead of not starting at all.
    """
    serious = [m for m in checks.run_checks(tags=[checks.Tags.security]) if m.is_serious()]
    if serious:
        raise ImproperlyConfigured("Refusing to start: " + " ".join(f"{m.id}: {m.msg}" for m in serious))
