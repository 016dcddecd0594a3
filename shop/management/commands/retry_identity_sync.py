"""Retry the Cognito changes that failed (or whose after-commit call was lost)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from shop.identity.cognito_sync import identity_sync_enabled, identity_sync_retryable, identity_sync_run
from shop.models import IdentitySync


class Command(BaseCommand):
    help = (
        "Retry every failed Cognito sync (invitations, disables), and pending ones older than "
        "five minutes. Exits non-zero if any still fails."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not identity_sync_enabled():
            raise CommandError("No Cognito pool is configured (COGNITO_USER_POOL_ID); nothing to sync.")
        ids = list(identity_sync_retryable().values_list("pk", flat=True))
        failed = 0
        for sync_id in ids:
            sync = identity_sync_run(sync_id=sync_id)
            ok = sync.status == IdentitySync.Status.DONE
            failed += not ok
            outcome = "done" if ok else f"failed again: {sync.last_error}"
            self.stdout.write(f"{sync.get_action_display()} {sync.user.email}: {outcome}")
        self.stdout.write(f"{len(ids) - failed} of {len(ids)} synced.")
        if failed:
            raise CommandError(f"{failed} Cognito sync(s) still failing; see the admin's Cognito syncs.")
