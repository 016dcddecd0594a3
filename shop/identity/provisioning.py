"""Who may become an employee on first sign-in: the EMPLOYEE_PROVISIONING policy and its check.

`roster` (the default) admits only people HR registered; `jit` admits any identity whose email
the pool verified, optionally only within EMPLOYEE_EMAIL_DOMAINS (for a pool federated with
the company's identity provider, where every identity is a colleague).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

ROSTER = "roster"
JIT = "jit"
MODES = (ROSTER, JIT)


def provisioning_mode() -> str:
    return str(settings.EMPLOYEE_PROVISIONING)


def email_domain_allowed(email: str) -> bool:
    """True when no domain list is set, or the address's domain is on it (exactly, no subdomains)."""
    domains = settings.EMPLOYEE_EMAIL_DOMAINS
    if not domains:
        return True
    return email.rpartition("@")[2].lower() in domains


@register(Tags.security)
def check_provisioning_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    # An unknown mode must stop the process rather than fall back to either policy silently.
    if provisioning_mode() not in MODES:
        return [
            Error(
                f"EMPLOYEE_PROVISIONING is {settings.EMPLOYEE_PROVISIONING!r}; use 'roster' or 'jit'.",
                id="shop.E010",
            )
        ]
    return []
