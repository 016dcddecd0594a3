"""Create or update the app's least-privileged database user; run as the owner after migrate."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shop.db.grants import GrantError, app_user_password, app_user_password_store, db_app_user_grant

DEFAULT_USER = "awsomeshop_app"


class Command(BaseCommand):
    help = (
        "Create or update the database user the app connects as: data changes on its tables, "
        "SELECT and INSERT only on the ledger, no DDL. Idempotent; run it after every migrate, as "
        "the database owner. The password is kept in the Secrets Manager secret named by "
        "--secret-arn (DB_APP_SECRET_ARN), generated there on the first run, or taken from "
        "DB_APP_PASSWORD when no secret is named."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default=os.environ.get("DB_APP_USER") or DEFAULT_USER)
        parser.add_argument("--secret-arn", default=os.environ.get("DB_APP_SECRET_ARN", ""))
        parser.add_argument(
            "--rotate-password",
            action="store_true",
            help="Generate a new password (needs --secret-arn); running apps follow the secret.",
        )
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        secret_arn: str = options["secret_arn"]
        if secret_arn:
            password, new = app_user_password(
                secret_arn=secret_arn, username=username, rotate=options["rotate_password"]
            )
        elif options["rotate_password"]:
            raise CommandError("--rotate-password needs --secret-arn (or DB_APP_SECRET_ARN).")
        else:
            password, new = os.environ.get("DB_APP_PASSWORD", ""), False
            if not password:
                raise CommandError(
                    "Name the password's secret (--secret-arn, DB_APP_SECRET_ARN) or set DB_APP_PASSWORD."
                )
        try:
            result = db_app_user_grant(username=username, password=password, using=options["database"])
        except GrantError as exc:
            raise CommandError(str(exc)) from exc
        # The database has the password before the secret does: a secret holding a password the
        # database refuses would lock the app and the proxy out, while the reverse is repaired by
        # the next run (an empty or stale secret makes it generate and store a fresh one).
        if new:
            app_user_password_store(secret_arn=secret_arn, username=username, password=password)
        verb = "Created" if result.created else "Updated"
        self.stdout.write(
            f"{verb} database user {username}: {len(result.granted)} table grant(s) added, "
            f"{len(result.revoked)} revoked" + ("; new password stored in the secret." if new else ".")
        )
