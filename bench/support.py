"""What several benchmarks share: a throwaway database and a timing loop that prints its figures.

Import after `django.setup()`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def throwaway_database() -> Iterator[None]:
    """Run inside a new database (`test_` + the name in DATABASE_URL), dropped afterwards."""
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def timed(name: str, op: Callable[[], object], *, n: int, warmup: int, width: int = 20) -> None:
    """Time `op` `n` times one by one after `warmup` untimed calls; print the median and p95."""
    for _ in range(warmup):
        op()
    samples = []
    for _ in range(n):
        started = time.perf_counter_ns()
        op()
        samples.append(time.perf_counter_ns() - started)
    samples.sort()
    print(
        f"{name:<{width}} median {statistics.median(samples) / 1000:8.1f} us   "
        f"p95 {samples[int(0.95 * (len(samples) - 1))] / 1000:8.1f} us"
    )
