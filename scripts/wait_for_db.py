"""Exit 0 once the database in DATABASE_URL answers, 1 if it does not within 30 seconds."""

from __future__ import annotations

import os
import sys
import time

import django
from django.db import connection
from django.db.utils import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "awsomeshop.settings.test")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
django.setup()

if connection.vendor == "sqlite":
    sys.exit(0)  # embedded: nothing to wait for

deadline = time.monotonic() + 30
while True:
    try:
        # The test database does not exist yet; ask the server itself.
        with connection._nodb_cursor() as cursor:
            cursor.execute("SELECT 1")
        print(f"database server ready: {connection.vendor}")
        sys.exit(0)
    except OperationalError as exc:
        if time.monotonic() > deadline:
            print(f"database unreachable: {exc}", file=sys.stderr)
            sys.exit(1)
        time.sleep(1)
