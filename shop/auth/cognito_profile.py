"""Completes the profile behind a Cognito access token, which carries no email or name.

An access token names only `sub`, `username` and the client. The first time an unknown `sub`
arrives with one, we ask Cognito's GetUser API with that same token (it needs no AWS
credentials, only the token and its `aws.cognito.signin.user.admin` scope) for the user's
attributes, and provision from those. This is a network call: callers make it before any
database transaction starts, and nothing it returns is cached, because once the employee
exists it is found by `sub` and Cognito is not asked again.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from shop.auth.budget import BudgetSpent, time_left
from shop.auth.verifier import Claims, InvalidToken, VerifierUnavailable

logger = logging.getLogger(__name__)

# Cognito's answers for a token it no longer honours (signed out globally, user deleted or
# disabled): the token must not get in, so these are 401s, not outages.
_REFUSED = {"NotAuthorizedException", "UserNotFoundException", "UserNotConfirmedException"}


def cognito_client() -> Any:
    """The boto3 Cognito client, pointed at COGNITO_ENDPOINT_URL when set (a local emulator).

    Its timeouts come from the request's identity-provider budget (shop.auth.budget), and it
    makes one attempt: a retry would only split the same few seconds.
    """
    left = time_left(5.0)
    config = Config(
        connect_timeout=min(2.0, left),
        read_timeout=left,
        retries={"total_max_attempts": 1, "mode": "standard"},
    )
    return boto3.client(
        "cognito-idp",
        region_name=settings.AWS_REGION,
        endpoint_url=settings.COGNITO_ENDPOINT_URL or None,
        config=config,
    )


def claims_complete_from_cognito(*, claims: Claims, access_token: str) -> Claims:
    """The access token's claims with email, name and employee id from GetUser filled in."""
    if claims.token_use != "access":
        return claims
    # Called from authentication, before any transaction (ATOMIC_REQUESTS is off): a row lock
    # held across this call would make other sign-ins wait on Cognito. A test pins this.
    try:
        response = cognito_client().get_user(AccessToken=access_token)
    except BudgetSpent as exc:
        raise VerifierUnavailable("no time left to ask Cognito") from exc
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _REFUSED:
            raise InvalidToken(f"Cognito refused the access token: {code}") from exc
        logger.warning("Cognito GetUser failed: %s", code or exc)
        raise VerifierUnavailable("Cognito GetUser failed") from exc
    except BotoCoreError as exc:
        logger.warning("Cognito GetUser unreachable: %s", exc)
        raise VerifierUnavailable("Cognito is unreachable") from exc
    attributes = {item["Name"]: item.get("Value", "") for item in response.get("UserAttributes", [])}
    if attributes.get("sub") and attributes["sub"] != claims.sub:
        # Cannot happen with a genuine token; refuse rather than attach the wrong profile.
        raise InvalidToken("GetUser answered for another subject")
    email = attributes.get("email", "").strip().lower() or None
    return dataclasses.replace(
        claims,
        email=email,
        email_verified=attributes.get("email_verified") == "true",
        name=attributes.get("name") or None,
        employee_id=attributes.get("custom:employee_id") or None,
    )
