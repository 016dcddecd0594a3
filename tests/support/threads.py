"""Real threads that start together, for the concurrency tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_at_once(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Start n threads that call work(i) at the same moment; return results (or exceptions).

    Each thread has its own database connection (Django's are per thread) and closes it, so
    the test database can be flushed afterwards.
    """
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results
