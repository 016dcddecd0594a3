"""The sign-in pages: start (to Cognito's hosted UI), callback, one-time link, sign-out.

mozilla-django-oidc's views do the protocol (state, nonce and the PKCE verifier kept in the
session, the code exchanged at the token endpoint); shop.auth.oidc_sign_in points them at the
storefront's app client. Every failure is a page that says what happened, never a trace: an
identity HR has not registered (403, nothing written), an account that is not an employee's or
is deactivated (403), a callback that is not this browser's sign-in or an error from Cognito
(400), Cognito unreachable (503).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from shop.auth.oidc_sign_in import (
    VERIFICATION_REASONS,
    CognitoSignInCallbackView,
    CognitoSignInStartView,
    SignInRefused,
)
from shop.auth.verifier import VerifierUnavailable
from storefront.signin.backends import STOREFRONT_SETTING_NAMES
from storefront.signin.links import sign_in_link_use
from storefront.signin.session import (
    NEXT_SESSION_KEY,
    cognito_logout_url,
    safe_next,
    sign_in_complete,
)

logger = logging.getLogger(__name__)


def problem(request: HttpRequest, *, title: str, detail: str, status: int) -> HttpResponse:
    """A page that says why the sign-in did not happen and how to go on."""
    context = {"title": title, "detail": detail}
    return render(request, "storefront/signin/problem.html", context, status=status)


def not_configured(request: HttpRequest) -> HttpResponse:
    return problem(
        request,
        title=_("Company sign-in is not available"),
        detail=_("Sign-in with your company account is not configured on this server."),
        status=404,
    )


def refused(request: HttpRequest, exc: SignInRefused) -> HttpResponse:
    if exc.reason == "not_registered":
        context: dict[str, Any] = {"detail": exc.detail, "switch_account_url": _switch_account_url(request)}
        return render(request, "storefront/signin/not_registered.html", context, status=403)
    if exc.reason in VERIFICATION_REASONS:
        return problem(
            request,
            title=_("Sign-in could not be verified"),
            detail=_("Your sign-in could not be verified. Start again from the sign-in page."),
            status=400,
        )
    if exc.reason.startswith("link_"):
        return problem(request, title=_("This sign-in link cannot be used"), detail=exc.detail, status=400)
    return problem(request, title=_("This account cannot use the shop"), detail=exc.detail, status=403)


def _switch_account_url(request: HttpRequest) -> str:
    # After a refusal the hosted UI is still signed in as that identity; its logout lets the
    # person choose another account at the next sign-in.
    return cognito_logout_url(request) if settings.STOREFRONT_OIDC_ENABLED else ""


@require_GET
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.GET.get("next"))
    user = request.user
    if user.is_authenticated and not user.is_active:
        # As on every employee page (storefront.access): HR's deactivation ends the session.
        logout(request)
        messages.info(request, _("Your account has been deactivated, so you were signed out."))
        user = request.user
    signed_in = user.is_authenticated and user.is_active and getattr(user, "is_employee", False)
    if signed_in and "next" in request.GET:
        # Sent here by a page that needed sign-in, which has happened since (another tab).
        return HttpResponseRedirect(next_url)
    context = {
        "signed_in": signed_in,
        "next": "" if next_url == "/" else next_url,
        "oidc_enabled": settings.STOREFRONT_OIDC_ENABLED,
        "local_sign_in": settings.STOREFRONT_LOCAL_SIGN_IN,
    }
    return render(request, "storefront/signin/sign_in.html", context)


class SignInStartView(CognitoSignInStartView):
    oidc_client = "storefront"
    oidc_setting_names = STOREFRONT_SETTING_NAMES

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.STOREFRONT_OIDC_ENABLED:
            return not_configured(request)
        response = super().get(request)
        request.session[NEXT_SESSION_KEY] = safe_next(request, request.GET.get("next"))
        return response


class SignInCallbackView(CognitoSignInCallbackView):
    oidc_client = "storefront"
    oidc_setting_names = STOREFRONT_SETTING_NAMES

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.STOREFRONT_OIDC_ENABLED:
            return not_configured(request)
        if request.GET.get("error"):
            error = str(request.GET["error"])
            logger.info("storefront sign-in: Cognito returned error %r", error[:100])
            super().get(request)  # drops the state and any session, as the library does
            # Only an OAuth error code is echoed (the query string is anyone's to write).
            code = error if re.fullmatch(r"[a-z_]{1,40}", error) else "unknown"
            return problem(
                request,
                title=_("Sign-in was not completed"),
                detail=_(
                    "The company sign-in service did not complete the sign-in (%(code)s). "
                    "Start again from the sign-in page."
                )
                % {"code": code},
                status=400,
            )
        try:
            return super().get(request)
        except SignInRefused as exc:
            logger.info("storefront sign-in refused: %s", exc.reason)
            return refused(request, exc)
        except SuspiciousOperation:
            # Not a state this browser started for the storefront: a forged or replayed
            # callback, a sign-in started in another browser, or the admin's. Nothing was exchanged.
            logger.warning("storefront sign-in: callback state does not match the session")
            return problem(
                request,
                title=_("Sign-in was not completed"),
                detail=_(
                    "This sign-in does not belong to this browser, or it was already used. "
                    "Start again from the sign-in page."
                ),
                status=400,
            )
        except (requests.RequestException, VerifierUnavailable) as exc:
            logger.warning("storefront sign-in: Cognito unreachable or refused the code: %s", exc)
            return problem(
                request,
                title=_("Sign-in is unavailable"),
                detail=_(
                    "The company sign-in service did not answer or did not accept this sign-in. "
                    "Try again in a minute."
                ),
                status=503,
            )

    def login_failure(self) -> HttpResponse:
        return problem(
            self.request,
            title=_("Sign-in was not completed"),
            detail=_("The sign-in was not completed. Start again from the sign-in page."),
            status=400,
        )

    def login_success(self) -> HttpResponse:
        # Always login(), unlike the library (which skips it for the same user): the session
        # gets a new key at every sign-in.
        logger.info("storefront sign-in through Cognito: %s", getattr(self.user, "email", ""))
        next_url = self.request.session.pop(NEXT_SESSION_KEY, None)
        return sign_in_complete(self.request, self.user, next_url=next_url)


@require_GET
def sign_in_link(request: HttpRequest, token: str) -> HttpResponse:
    # Checked first, before the token is even read: production never signs anyone in this way.
    if not settings.STOREFRONT_LOCAL_SIGN_IN:
        raise Http404("Local sign-in is switched off.")
    try:
        user = sign_in_link_use(token=token)
    except SignInRefused as exc:
        logger.info("storefront one-time sign-in link refused: %s", exc.reason)
        return refused(request, exc)
    logger.info("storefront sign-in with a one-time link: %s", user.email)
    return sign_in_complete(request, user, next_url=request.GET.get("next"))


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    # The address is built before logout(), which replaces the session but not the request's host.
    target = cognito_logout_url(request)
    logout(request)
    return HttpResponseRedirect(target)


@require_GET
def signed_out(request: HttpRequest) -> HttpResponse:
    return render(request, "storefront/signin/signed_out.html")
