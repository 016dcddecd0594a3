"""The page HR sees when django-axes has locked a sign-in out: in the admin's look, saying for
how long, with the way back to the sign-in page (axes' default is one bare line of text)."""

from __future__ import annotations

import math
from typing import Any

from axes.conf import settings as axes_settings
from axes.helpers import get_cool_off, get_failure_limit
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else None
    context = {
        **admin.site.each_context(request),
        "title": "Sign-in locked",
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": minutes,
    }
    return render(request, "admin/hr/lockout.html", context, status=axes_settings.AXES_HTTP_RESPONSE_CODE)
