"""Django's database cache with an atomic ``incr``, so counters in it hold across processes.

``DatabaseCache`` inherits ``BaseCache.incr``: a get and a set with nothing between them, so
two server processes incrementing one key at the same moment can both read 4 and both write 5.
The order rate limit counts in this cache across 2-10 containers (``shop.http.throttling``), so here
``incr`` reads the row with ``SELECT ... FOR UPDATE`` and writes it back in the same
transaction: concurrent increments of one key queue on its row lock on MySQL/MariaDB and
PostgreSQL and each gets its own count. SQLite has no row locks; it lets one writer at a time
into the whole database, so a concurrent increment there fails with "database is locked"
rather than losing an update (SQLite is the single-process development default).

Values are stored exactly as ``DatabaseCache`` stores them (pickled, base64), so ``get``,
``set`` and ``add`` from the parent read and write the same rows.
"""

from __future__ import annotations

import base64
import pickle
from typing import Any

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.utils.timezone import now as tz_now


class LockingDatabaseCache(DatabaseCache):
    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        # BaseCache.decr calls this with -delta, so decrements are atomic too.
        cache_key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table = quote(self.cache_model_class._meta.db_table)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        # Expired rows are left out in SQL, as DatabaseCache.has_key does, and count as missing.
        now = connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0))
        # Identifiers are the configured table and fixed column names, quoted; values are bound.
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote('value')} FROM {table} "  # noqa: S608
                f"WHERE {quote('cache_key')} = %s AND {quote('expires')} > %s{lock}",
                [cache_key, now],
            )
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")  # what BaseCache.incr raises
            stored = connection.ops.process_clob(row[0])
            # Rows are written only by this cache, pickled exactly as DatabaseCache does.
            value = pickle.loads(base64.b64decode(stored.encode())) + delta  # noqa: S301
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {quote('value')} = %s WHERE {quote('cache_key')} = %s",  # noqa: S608
                [encoded, cache_key],
            )
        return value
