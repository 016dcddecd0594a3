"""Django's MySQL backend, plus: follow a rotated RDS master password without a restart, and
begin transactions with one statement fewer.

RDS keeps the master credentials in a Secrets Manager secret and rotates them (every 7 days by
default). ECS injects the password once, when a task starts, so after a rotation every new
connection of a running task would be refused. When ``DB_SECRET_ARN`` names that secret, a
refused login (MySQL error 1045) makes this backend read the secret once and retry with what it
holds now; the new credentials are kept for later connections. No lock is held at that point:
the connection does not exist yet.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
import MySQLdb
from django.conf import settings
from django.db.backends.mysql import base

from shop.db.backends import NoReconnectAfterStall

logger = logging.getLogger(__name__)

ACCESS_DENIED = 1045
# infra_cdktf.config.LOGIN_REFUSED_MESSAGE: an alarm counts this line and the release looks for it.
LOGIN_REFUSED = "database login refused with the current credentials"


def read_credentials(secret_arn: str) -> tuple[str, str]:
    """The username and password the RDS-managed secret holds now."""
    client = boto3.client("secretsmanager", region_name=settings.AWS_REGION)
    secret = json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"])
    return str(secret["username"]), str(secret["password"])


class DatabaseWrapper(NoReconnectAfterStall, base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self) -> None:
        """Begin an atomic block's transaction with START TRANSACTION, the session staying in
        autocommit mode (Django calls this for ``atomic()`` only; see set_autocommit).

        Django's way is ``SET autocommit=0`` before and ``SET autocommit=1`` after the COMMIT or
        ROLLBACK: three round trips to the server besides the transaction's own statements. A
        transaction begun with START TRANSACTION ends with its COMMIT or ROLLBACK, after which
        the session is in autocommit mode again; the driver sees that in the server's status
        flags and skips the ``SET autocommit=1`` that Django then asks for. One round trip fewer
        per transaction: every order, grant and sign-in (bench/RESULTS.md, "One round trip fewer
        per transaction"). The isolation level is the session's, as before.
        """
        self.cursor().execute("START TRANSACTION")

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        try:
            return super().get_new_connection(conn_params)
        except MySQLdb.OperationalError as exc:
            secret_arn = self.settings_dict.get("SECRET_ARN")
            if not secret_arn or exc.args[0] != ACCESS_DENIED:
                raise
            logger.warning("database login refused; re-reading the credentials from Secrets Manager")
            user, password = read_credentials(secret_arn)
            if (user, password) == (conn_params.get("user"), conn_params.get("password")):
                # Not a rotation: the secret holds what was refused. The liveness check does not
                # touch the database, so this line is how the deploy and the alarm see it.
                logger.error(LOGIN_REFUSED)
                raise
            # Shared by this process's later connections (settings_dict is the DATABASES entry).
            self.settings_dict["USER"], self.settings_dict["PASSWORD"] = user, password
            try:
                return super().get_new_connection({**conn_params, "user": user, "password": password})
            except MySQLdb.OperationalError as retry:
                if retry.args[0] == ACCESS_DENIED:
                    logger.error(LOGIN_REFUSED)
                raise
