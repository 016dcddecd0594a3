"""Keeps the Cognito user pool in step with the roster: invite, disable and sign out, enable.

A change to the roster records an `IdentitySync` row in its own transaction and asks for the
Cognito call to run once that transaction commits (`transaction.on_commit`): a network call
never holds a transaction open, and a change that rolls back never reaches Cognito. The call's
outcome is written back to the row; a failed one waits for a retry by HR (admin action) or a
script (`manage.py retry_identity_sync`). Every call is safe to repeat: a user that already
exists counts as invited, one that does not exist counts as disabled.

Nothing happens without a configured pool (COGNITO_USER_POOL_ID): in local development the
local issuer signs anyone in whom the roster knows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from shop.auth.cognito_profile import cognito_client
from shop.models import IdentitySync, User

logger = logging.getLogger(__name__)

Action = IdentitySync.Action
Status = IdentitySync.Status

# A pending row older than this lost its after-commit call (the process stopped in between);
# the retry command picks it up. Younger ones are probably still running.
STALE_PENDING_SECONDS = 300


def identity_sync_enabled() -> bool:
    return bool(settings.COGNITO_USER_POOL_ID)


def identity_sync_schedule(*, users: Iterable[User], action: str) -> list[IdentitySync]:
    """Record the Cognito change for these users; it runs after the current transaction commits.

    Call it inside the transaction that makes the change. Without a configured pool, nothing.
    """
    if not identity_sync_enabled():
        return []
    now = timezone.now()
    rows = [IdentitySync(user=user, action=action, created_at=now, updated_at=now) for user in users]
    if not rows:
        return rows
    for row in rows:
        row.save(force_insert=True)
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: identity_sync_run_many(sync_ids=ids))
    return rows


def identity_sync_run_many(*, sync_ids: Iterable[int]) -> list[IdentitySync]:
    return [identity_sync_run(sync_id=sync_id) for sync_id in sync_ids]


def identity_sync_run(*, sync_id: int) -> IdentitySync:
    """Perform one recorded change against Cognito and record the outcome; never raises.

    Runs outside any transaction: the row is read, the call made, and the outcome written with
    a plain update, so no lock is held while Cognito answers.
    """
    sync = IdentitySync.objects.select_related("user").get(pk=sync_id)
    if sync.status == Status.DONE:
        return sync
    error = ""
    try:
        _perform(sync)
    except (ClientError, BotoCoreError) as exc:
        error = _describe(exc)
    except Exception as exc:  # recorded for HR rather than lost in an after-commit hook
        logger.exception("identity sync %s failed unexpectedly", sync.pk)
        error = f"{type(exc).__name__}: {exc}"
    now = timezone.now()
    status = Status.FAILED if error else Status.DONE
    IdentitySync.objects.filter(pk=sync.pk).update(
        status=status,
        attempts=F("attempts") + 1,
        last_error=error[:2000],
        updated_at=now,
        completed_at=None if error else now,
    )
    if error:
        logger.warning("identity sync %s (%s %s) failed: %s", sync.pk, sync.action, sync.user.email, error)
    sync.refresh_from_db()
    return sync


def identity_sync_retryable() -> QuerySet[IdentitySync]:
    """Failed rows, and pending ones whose after-commit call was lost, oldest first."""
    stale = timezone.now() - timedelta(seconds=STALE_PENDING_SECONDS)
    return IdentitySync.objects.filter(
        Q(status=Status.FAILED) | Q(status=Status.PENDING, updated_at__lt=stale)
    ).order_by("created_at", "id")


def _perform(sync: IdentitySync) -> None:
    client = cognito_client()
    pool = settings.COGNITO_USER_POOL_ID
    user = sync.user
    # In a pool that signs in by email, the username is the user's `sub` and the email an alias
    # the admin APIs accept too. The sub, once known, still names the user after HR corrects
    # the email here; before the first sign-in the email is all there is.
    username = user.cognito_sub or user.email
    if sync.action == Action.INVITE:
        attributes = [
            {"Name": "email", "Value": user.email},
            # HR vouches for the address; Cognito sends the invitation to it.
            {"Name": "email_verified", "Value": "true"},
        ]
        if user.name:
            attributes.append({"Name": "name", "Value": user.name})
        if user.employee_id:
            attributes.append({"Name": "custom:employee_id", "Value": user.employee_id})
        try:
            client.admin_create_user(
                UserPoolId=pool,
                Username=user.email,
                UserAttributes=attributes,
                DesiredDeliveryMediums=["EMAIL"],
            )
        except ClientError as exc:
            if _code(exc) != "UsernameExistsException":
                raise
            # Already there (an earlier attempt got through, or the person had an account).
    elif sync.action == Action.DISABLE:
        try:
            client.admin_disable_user(UserPoolId=pool, Username=username)
            # Disabling stops new sign-ins; signing out revokes the refresh tokens already out.
            client.admin_user_global_sign_out(UserPoolId=pool, Username=username)
        except ClientError as exc:
            if _code(exc) != "UserNotFoundException":
                raise
            # Never had a Cognito user: there is nothing to disable.
    elif sync.action == Action.ENABLE:
        client.admin_enable_user(UserPoolId=pool, Username=username)
    else:
        raise ValueError(f"unknown action {sync.action!r}")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _describe(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        message = exc.response.get("Error", {}).get("Message", "")
        return f"{_code(exc)}: {message}".strip()
    return f"{type(exc).__name__}: {exc}"
