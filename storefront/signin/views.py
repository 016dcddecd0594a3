"""The sign-in page (the start of the company sign-in)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def sign_in(request: HttpRequest) -> HttpResponse:
    return render(request, "storefront/signin/sign_in.html", {"next": request.GET.get("next", "")})
