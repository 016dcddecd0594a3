"""Rate limits for the API, counted in the shared cache so they hold across server processes.

Only order placement is limited: reads are cheap, and a runaway client placing orders is the
case that costs employees points and stock. Counts live in the default cache (Redis or a
database table), not in process memory, so 2 or 10 containers enforce one limit together.

How it counts: a fixed window per employee. Each window of the rate's period (a clock minute
for "30/min") has one counter. On Redis (REDIS_URL, production's cache) one round trip per
order does it: ``INCR`` (atomic, and it creates a missing counter at 1) with an ``EXPIRE`` in one
server-side script, so the counter never outlives its window for long. In the database cache the
counter is raised with ``incr`` and created with ``add`` on a window's first request, both
atomic there too (the table's unique key and the row-locking ``incr`` in ``shop.db.cache``), at the
price of a transaction and a commit of its own per order. Either way simultaneous requests on
any number of containers each get their own number and exactly the first N of a window pass.
The cost of the fixed window: a client can place N orders at the end of one window and N more at the start of the
next. DRF's own throttle keeps a sliding log instead, but reads and rewrites it without a lock,
so a burst of simultaneous requests could all pass; a limit that holds was the requirement.

When the cache fails, orders go through unthrottled (the limit guards against runaway
clients; balances and stock are the database's). A cache that stalls rather than refuses
would still cost every order its full socket timeout (1 s), so a circuit breaker per process
(`CacheBreaker`) stops asking after CIRCUIT_FAILURES failures in a row: for CIRCUIT_OPEN_SECONDS
orders skip the cache at once, then a background probe (never an order) asks it again and
closes the circuit when it answers. Opening and closing are logged and counted
(`CacheCircuitOpened`, `CacheCircuitClosed`, docs/metrics.md).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from shop.observability import metrics

logger = logging.getLogger(__name__)

# Failures in a row that open the circuit, and how long it stays open before a probe.
CIRCUIT_FAILURES = 3
CIRCUIT_OPEN_SECONDS = 10.0


class CacheBreaker:
    """A circuit breaker around the rate limiter's cache, per process.

    Closed: every order asks the cache. After `failures` failures in a row it opens: orders
    skip the cache for `open_seconds`. Then one probe runs in a background thread (so no order
    waits on a cache that may still be stalled); its success closes the circuit, its failure
    keeps it open for another `open_seconds`.
    """

    def __init__(
        self,
        probe: Callable[[], None],
        *,
        failures: int = CIRCUIT_FAILURES,
        open_seconds: float = CIRCUIT_OPEN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._probe = probe
        self._threshold = failures
        self._open_seconds = open_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until: float | None = None
        self._probing = False

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def reset(self) -> None:
        """Closed, no failures counted (tests start from here)."""
        with self._lock:
            self._failures, self._open_until, self._probing = 0, None, False

    def allow(self) -> bool:
        """Whether this request may ask the cache (False: skip it, as when it fails)."""
        with self._lock:
            if self._open_until is None:
                return True
            if self._probing or self._clock() < self._open_until:
                return False
            self._probing = True
        threading.Thread(target=self._run_probe, name="cache-probe", daemon=True).start()
        return False

    def _run_probe(self) -> None:
        try:
            self._probe()
        except Exception:  # noqa: BLE001 - any failure keeps the circuit open
            with self._lock:
                self._probing = False
                self._open_until = self._clock() + self._open_seconds
            logger.info("order throttle cache still unavailable; circuit stays open")
            return
        self.succeeded()

    def succeeded(self) -> None:
        with self._lock:
            was_open = self._open_until is not None
            self._failures, self._open_until, self._probing = 0, None, False
        if was_open:
            logger.warning("order throttle cache reachable again; circuit closed, orders are counted again")
            metrics.count("CacheCircuitClosed")

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            opens = self._open_until is None and self._failures >= self._threshold
            if opens:
                self._open_until = self._clock() + self._open_seconds
        if opens:
            logger.warning(
                "order throttle cache failed %d times in a row; circuit open, orders skip it for %.0f s",
                self._threshold,
                self._open_seconds,
            )
            metrics.count("CacheCircuitOpened")


def _probe_cache() -> None:
    """One cheap round trip to the rate limiter's cache (in the probe's own thread)."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        # Django's RedisCache keeps its redis-py client factory here; it has no public accessor.
        cache._cache.get_client(write=True).ping()  # type: ignore[attr-defined]
    else:
        cache.get("throttle:probe")


breaker = CacheBreaker(_probe_cache)


class OrderPlacementThrottle(SimpleRateThrottle):
    """POST /api/v1/orders/ per employee, at ORDER_RATE_LIMIT (e.g. "30/min")."""

    scope = "order_place"
    # Set by SimpleRateThrottle.__init__ from the rate (None when the limit is off).
    num_requests: int | None
    duration: int | None

    def __init__(self) -> None:
        # Looked up per request, not bound at import, so settings overrides take effect.
        self.cache = caches["default"]
        self.retry_after: float | None = None
        super().__init__()

    def get_rate(self) -> str | None:
        # Read at request time: DRF binds THROTTLE_RATES at import, which tests cannot override.
        rate: str | None = settings.ORDER_RATE_LIMIT
        return rate

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        user = request.user
        if not (user and user.is_authenticated):
            return None  # the view answers 401 before placing anything
        return f"throttle:{self.scope}:{user.pk}"

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method != "POST" or self.num_requests is None or self.duration is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        if not breaker.allow():
            return True  # the cache failed just now: let the order through without waiting on it
        now = self.timer()
        window = int(now // self.duration)
        try:
            count = self._count(f"{key}:{window}", timeout=2 * self.duration)
        except Exception:  # any cache failure: Redis down, a timeout, a missing table
            # The limit is a guard against runaway clients, not a correctness rule (balances and
            # stock are protected by the database): an unreachable cache lets the order through.
            logger.warning("order throttle cache unavailable; request allowed", exc_info=True)
            breaker.failed()
            return True
        breaker.succeeded()
        if count <= self.num_requests:
            return True
        self.retry_after = (window + 1) * self.duration - now
        return False

    def _count(self, window_key: str, *, timeout: int) -> int:
        """This request's number in its window: increment, creating the counter on a miss."""
        if isinstance(self.cache, RedisCache):
            return _count_in_redis(self.cache, window_key, timeout=timeout)
        try:
            # Every request but a window's first finds its counter: one atomic increment.
            return int(self.cache.incr(window_key))
        except ValueError:
            # First of the window. add() is atomic too, so of simultaneous firsts one creates the
            # counter and the others' add() does nothing; then each increments it once. Kept for
            # two periods (timeout), so a request that read the clock just before its window
            # ended still finds the counter when it increments.
            self.cache.add(window_key, 0, timeout=timeout)
            return int(self.cache.incr(window_key))

    def wait(self) -> float | None:
        # Whole seconds until the next window opens; never 0, which would invite a busy retry.
        if self.retry_after is None:
            return None
        return float(max(1, math.ceil(self.retry_after)))


# INCR (a missing counter starts at 1) and EXPIRE as one script: atomic on the server, one
# command from here. A MULTI/EXEC pipeline does the same in one round trip too, but costs
# redis-py several times the Python work per order.
_INCR_EXPIRE = "local n = redis.call('INCR', KEYS[1]) redis.call('EXPIRE', KEYS[1], ARGV[1]) return n"

# One redis-py client per cache client (so per thread: Django keeps caches per thread). Django's
# RedisCache builds a new client object for every call, and building one copies redis-py's
# table of response callbacks, which costs more than the command.
_clients: WeakKeyDictionary[Any, Any] = WeakKeyDictionary()


def _count_in_redis(cache: RedisCache, window_key: str, *, timeout: int) -> int:
    """This request's number in its window, in one round trip.

    The key is the cache's own (prefix and version) and Django's Redis serializer stores
    integers as plain numbers, so ``cache.get`` reads the same counter. Each request pushes its
    window counter's expiry out to `timeout` again; the window is in the key, so a counter kept
    a little longer never counts into another window.
    """
    key = cache.make_and_validate_key(window_key)
    # Django's RedisCache keeps its redis-py client factory here; it has no public accessor.
    factory = cache._cache  # type: ignore[attr-defined]
    client = _clients.get(factory)
    if client is None:
        client = _clients[factory] = factory.get_client(key, write=True)
    return int(client.eval(_INCR_EXPIRE, 1, key, timeout))
