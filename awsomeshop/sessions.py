"""The session engine: server-side sessions whose read brings the signed-in user along.

Every page a browser asks for (the storefront's, the admin's) reads its session row first, then
its user. Django's database engine keeps the user's id only inside the encoded session data, so
those were two queries, each a round trip and each compiled by the ORM anew. Here the row lives
in `shop.BrowserSession`, which also keeps the user's id as a column (written from the data on
every save), and one statement, compiled once per database (shop.db.prepared), reads the row
joined to the user and the points account. The storefront's authentication backend takes that
user instead of asking again (shop.http.middleware.preloaded_user); Django's own checks of the
session (the auth hash, the backend path) run on it unchanged. Everything else (writes, keys,
expiry, signing out) is Django's `db` engine, so sessions stay server-side and are ended
everywhere at once. Django's `cached_db` engine would save the query but not the CPU, and in AWS
would make every page wait on Redis when it fails.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import SuspiciousOperation
from django.db import connections, router
from django.db.models import QuerySet
from django.utils import timezone

from shop.db.prepared import PreparedLookup
from shop.models import BrowserSession, User


def _session_by_key_query(value: object) -> QuerySet[BrowserSession]:
    # The user with what API_USER_SELECT_RELATED joins to it (the points account), as the
    # storefront's backend would otherwise fetch it (storefront/signin/backends.py).
    related = ["user", *(f"user__{name}" for name in settings.API_USER_SELECT_RELATED)]
    return BrowserSession.objects.select_related(*related).filter(session_key=value).order_by()


_SESSION_BY_KEY = PreparedLookup(_session_by_key_query, key=lambda: tuple(settings.API_USER_SELECT_RELATED))


def _user_id_of(data: dict[str, Any]) -> uuid.UUID | None:
    """The signed-in user's id in session data, or None (signed out, or not a UUID)."""
    value = data.get(SESSION_KEY)
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


class SessionStore(DatabaseSessionStore):
    _loaded_user: User | None = None

    @classmethod
    def get_model_class(cls) -> type[BrowserSession]:
        return BrowserSession

    def create_model_instance(self, data: dict[str, Any]) -> BrowserSession:
        session = cast(BrowserSession, super().create_model_instance(data))
        session.user_id = _user_id_of(data)
        return session

    def _get_session_from_db(self) -> Any:
        # As Django's: the unexpired row for this key, or None with the key dropped. The expiry
        # is compared here rather than in SQL so that the statement has one parameter.
        self._loaded_user = None
        try:
            session = _SESSION_BY_KEY.first(connections[router.db_for_read(BrowserSession)], self.session_key)
        except SuspiciousOperation as e:
            logging.getLogger(f"django.security.{e.__class__.__name__}").warning(str(e))
            session = None
        if session is not None and session.expire_date > timezone.now():
            self._loaded_user = session.user
            return session
        self._session_key = None
        return None

    def preloaded_user(self, user_id: object) -> User | None:
        """The user read with this session, if it is the one with id `user_id`; else None.

        Only after the session was loaded (Django's get_user reads the session's user id first),
        and only while the data still names that user: a session flushed or cycled since it was
        read has no preloaded user.
        """
        user = self._loaded_user
        data = getattr(self, "_session_cache", None)
        if user is None or data is None or str(user.pk) != str(user_id) or _user_id_of(data) != user.pk:
            return None
        return user

    def flush(self) -> None:
        self._loaded_user = None
        super().flush()

    def cycle_key(self) -> None:
        self._loaded_user = None
        super().cycle_key()
