"""The design's 8-hour session applies to admin sign-ins too (Cognito's refresh tokens match)."""

from __future__ import annotations

from django.conf import settings


def test_admin_sessions_last_eight_hours() -> None:
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
