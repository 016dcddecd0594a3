"""What the admin login page offers: company sign-in, passwords, or both."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def admin_sign_in_options() -> dict[str, bool]:
    return {
        "company": bool(settings.ADMIN_OIDC_ENABLED),
        "password": bool(settings.ADMIN_PASSWORD_LOGIN),
    }
