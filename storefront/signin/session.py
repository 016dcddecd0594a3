"""What every storefront sign-in ends with, whichever way the employee proved who they are."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import SESSION_KEY, login
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from shop.models import User

BACKEND = "storefront.signin.backends.StorefrontSignInBackend"
# Where the storefront's sign-in keeps its `next` while the employee is at Cognito (the
# library's own key is shared with the admin's sign-in).
NEXT_SESSION_KEY = "storefront_sign_in_next"
HOME = "/"


def safe_next(request: HttpRequest, url: str | None) -> str:
    """``url`` if it stays on this site (same host, no scheme change to http), else the home page."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return HOME


def sign_in_complete(request: HttpRequest, user: User, *, next_url: str | None) -> HttpResponseRedirect:
    """Sign the employee in: a new session key, the design's session length, then ``next``."""
    target = safe_next(request, next_url)
    # A session id planted before sign-in must be worthless after it. login() gives a new key
    # (or a new session, if another user held it) except when the same person signs in
    # again, where it keeps the key: that case is rotated here.
    if request.session.get(SESSION_KEY) is not None:
        request.session.cycle_key()
    login(request, user, backend=BACKEND)
    request.session.set_expiry(settings.STOREFRONT_SESSION_SECONDS)
    return HttpResponseRedirect(target)


def cognito_logout_url(request: HttpRequest) -> str:
    """Cognito's logout, which ends its own session and returns to our signed-out page.

    Without it the hosted UI would sign the same person straight back in at the next sign-in.
    The return address must be one of the app client's sign-out URLs.
    """
    back = request.build_absolute_uri(reverse("storefront:signed-out"))
    if not settings.STOREFRONT_OIDC_ENABLED:
        return back
    query = urlencode({"client_id": settings.STOREFRONT_OIDC_CLIENT_ID, "logout_uri": back})
    return f"{settings.STOREFRONT_OIDC_LOGOUT_ENDPOINT}?{query}"
