"""The session engine: Django's database sessions, each request's read compiled once.

Every page a browser asks for (the storefront's, the admin's) reads its session row first; the
ORM built that SELECT anew on every request, which cost more CPU than the rest of the session
handling (bench/RESULTS.md, "Storefront"). Here the same statement is compiled once per database
(shop.db.prepared) and only executed; everything else (writes, keys, expiry, signing out) is
Django's own `db` engine, so sessions stay server-side and are ended everywhere at once.
Django's `cached_db` engine would save the query but not the CPU, and in AWS would make every
page wait on Redis when it fails.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import SuspiciousOperation
from django.db import connections, router
from django.db.models import QuerySet
from django.utils import timezone

from shop.db.prepared import PreparedLookup


def _session_by_key_query(value: object) -> QuerySet[Session]:
    return Session.objects.filter(session_key=value).order_by()


_SESSION_BY_KEY = PreparedLookup(_session_by_key_query)


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> Any:
        # As Django's: the unexpired row for this key, or None with the key dropped. The expiry
        # is compared here rather than in SQL so that the statement has one parameter.
        try:
            session = _SESSION_BY_KEY.first(connections[router.db_for_read(Session)], self.session_key)
        except SuspiciousOperation as e:
            logging.getLogger(f"django.security.{e.__class__.__name__}").warning(str(e))
            session = None
        if session is not None and session.expire_date > timezone.now():
            return session
        self._session_key = None
        return None
