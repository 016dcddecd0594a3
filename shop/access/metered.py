"""The API's bearer-token authentication, counted: ``AuthSuccess`` and ``AuthFailure`` by reason.

A subclass rather than lines inside the authenticator, so the metric sees exactly what the
client was told, whichever branch of authentication produced it.
"""

from __future__ import annotations

from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from shop.access.authentication import BearerTokenAuthentication
from shop.auth.verifier import Claims, InvalidToken
from shop.http.errors import ServiceUnavailable
from shop.models import User
from shop.observability import metrics


class MeteredBearerTokenAuthentication(BearerTokenAuthentication):
    def authenticate(self, request: Request) -> tuple[User, Claims] | None:
        try:
            result = super().authenticate(request)
        except Exception as exc:
            metrics.count("AuthFailure", Reason=failure_reason(exc))
            raise
        if result is not None:
            metrics.count("AuthSuccess")
            metrics.employee_seen(result[0].pk)
        return result


def failure_reason(exc: BaseException) -> str:
    """A short fixed word: never the token, the email or the exception's free text."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, InvalidToken):
        return cause.reason
    if isinstance(exc, AuthenticationFailed) and exc.get_codes() == "unregistered":
        return "unregistered"
    if isinstance(exc, ServiceUnavailable):
        return "provider_unavailable"
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code.isidentifier() and code not in ("bad_request", "error"):
        return code  # e.g. not_registered, from the application's own error classes
    return "malformed"
