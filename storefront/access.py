"""Who may see the storefront's pages: a signed-in, active employee on the roster.

A session outlives nothing HR decides: an employee deactivated since they signed in is signed
out on their next request, and an account that is not an employee (HR-only, operations) is told
so instead of being shown an empty shop.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

View = Callable[..., HttpResponse]


def employee_required(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        sign_in = reverse("storefront:sign-in")
        if not user.is_authenticated:
            if SESSION_KEY in request.session:
                # A session whose user the backend no longer accepts (deactivated, or removed):
                # end it rather than leave it to come back to life.
                logout(request)
            return redirect_to_login(request.get_full_path(), login_url=sign_in)
        if not user.is_active:
            logout(request)
            messages.info(request, _("Your account has been deactivated, so you were signed out."))
            return redirect_to_login(request.get_full_path(), login_url=sign_in)
        if not getattr(user, "is_employee", False):
            return render(request, "storefront/not_employee.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped
