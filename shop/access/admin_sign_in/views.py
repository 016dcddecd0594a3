"""The company sign-in pages: start (to Cognito's hosted UI), callback, and the refusal page.

mozilla-django-oidc's views do the protocol (state, nonce and the PKCE verifier kept in the
session, the code exchanged at the token endpoint). These subclasses answer every failure with
a page that says what happened, never a stack trace or a bare redirect: a refused identity
(403), a state that does not match this browser's sign-in (400), Cognito unreachable (503).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from shop.access.admin_sign_in.backends import ADMIN_SETTING_NAMES
from shop.auth.oidc_sign_in import CognitoSignInCallbackView, CognitoSignInStartView, SignInRefused
from shop.auth.verifier import VerifierUnavailable

logger = logging.getLogger(__name__)

TEMPLATE = "admin/sign_in_refused.html"


def refusal(request: HttpRequest, *, detail: str, status: int) -> HttpResponse:
    context = {**admin.site.each_context(request), "detail": detail, "title": "Sign-in refused"}
    return render(request, TEMPLATE, context, status=status)


class SignInStartView(CognitoSignInStartView):
    oidc_client = "admin"
    oidc_setting_names = ADMIN_SETTING_NAMES


class SignInCallbackView(CognitoSignInCallbackView):
    oidc_client = "admin"
    oidc_setting_names = ADMIN_SETTING_NAMES

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.ADMIN_OIDC_ENABLED:
            raise Http404("Company sign-in is not configured.")
        if request.GET.get("error"):
            error = str(request.GET["error"])
            logger.info("admin sign-in: Cognito returned error %r", error[:100])
            super().get(request)  # drops the state and any session, as the library does
            # Only an OAuth error code is echoed (the query string is anyone's to write).
            code = f" ({error})" if re.fullmatch(r"[a-z_]{1,40}", error) else ""
            return refusal(
                request,
                detail=f"Cognito did not complete the sign-in{code}. Start again from the sign-in page.",
                status=403,
            )
        try:
            response: HttpResponse = super().get(request)
        except SignInRefused as exc:
            return refusal(request, detail=exc.detail, status=403)
        except SuspiciousOperation:
            # The state is not one this browser started for the admin: a forged or replayed
            # callback, a sign-in started in another browser, or the storefront's. Nothing was
            # exchanged.
            logger.warning("admin sign-in: callback state does not match the session")
            return refusal(
                request,
                detail="This sign-in link does not belong to this browser's sign-in, or was "
                "already used. Start again from the sign-in page.",
                status=400,
            )
        except (requests.RequestException, VerifierUnavailable) as exc:
            logger.warning("admin sign-in: Cognito unreachable or refused the code: %s", exc)
            return refusal(
                request,
                detail="The company sign-in service did not answer or did not accept this sign-in. "
                "Try again in a minute.",
                status=503,
            )
        return response

    def login_failure(self) -> HttpResponse:
        return refusal(
            self.request,
            detail="The sign-in was not completed. Start again from the sign-in page.",
            status=400,
        )

    def login_success(self) -> HttpResponse:
        response: HttpResponse = super().login_success()
        # A role removed in Cognito takes effect at the next sign-in, so sessions stay short.
        self.request.session.set_expiry(settings.ADMIN_OIDC_SESSION_SECONDS)
        logger.info("admin sign-in through Cognito: %s", getattr(self.user, "email", ""))
        return response


def cognito_logout_url(request: HttpRequest) -> str:
    """Cognito's hosted-UI logout, which ends its own session and comes back to our login page."""
    back = request.build_absolute_uri(reverse("admin:login"))
    if not settings.ADMIN_OIDC_ENABLED:
        return back
    query = urlencode({"client_id": settings.OIDC_RP_CLIENT_ID, "logout_uri": back})
    return f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{query}"
