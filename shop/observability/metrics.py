"""Application metrics, written as CloudWatch Embedded Metric Format (EMF) lines on stdout.

In AWS the task's awslogs driver ships standard output to CloudWatch Logs, and CloudWatch turns
every EMF line into metric data points: no CloudWatch API call, no credentials, no network
wait anywhere in the application. ``docs/metrics.md`` lists each metric and its alarm.

Off the request path. A request only adds a number to an in-memory aggregate under a lock
(about a microsecond); a daemon thread per process writes the aggregates every
``METRICS_FLUSH_SECONDS``. Memory is bounded: at most ``max_series`` metric series and
``max_samples`` latency samples per series per interval (a uniform reservoir sample beyond
that, so percentiles stay honest); what does not fit is counted in ``MetricsDropped``.

The documents themselves are built by aws-embedded-metrics (``MetricsContext`` and
``LogSerializer``: names, units, dimension limits, the 100-values-per-metric split). Its own
loggers flush one document per decorated call through asyncio, which would mean one stdout
write per request; aggregating many requests into one document per interval is why the
recorder and its thread are ours.

Dimensions are few on purpose (cost is per metric series): every series carries
``Environment``; a series recorded with extra dimensions (route and status class, reason, code)
is also rolled up to ``Environment`` alone, which is what the alarms read. Nothing personal is
ever a value or a dimension: routes are URL patterns (``api/v1/orders/<uuid:pk>/``), never
paths; active employees are counted through salted hashes that stay in the shared cache.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import hmac
import logging
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aws_embedded_metrics.logger.metrics_context import MetricsContext
from aws_embedded_metrics.serializers.log_serializer import LogSerializer

logger = logging.getLogger(__name__)

NAMESPACE = "AWSomeShop"
# Distinct employees are counted per window of this length, fleet-wide (see _count_active).
ACTIVE_WINDOW_SECONDS = 300

Dimensions = tuple[tuple[str, str], ...]


@dataclass
class _Series:
    unit: str
    total: float = 0.0  # counters: the sum over the interval
    samples: list[float] = field(default_factory=list)  # distributions: raw values
    seen: int = 0  # distributions: how many values were offered (for the reservoir)


class MetricsRecorder:
    """Aggregates metrics in memory and writes them as EMF lines on a background thread."""

    def __init__(
        self,
        *,
        environment: str,
        flush_seconds: float = 60.0,
        namespace: str = NAMESPACE,
        max_series: int = 300,
        max_samples: int = 500,
        max_active: int = 50_000,
        write: Callable[[str], None] | None = None,
        active_counter: Callable[[Iterable[str]], int | None] | None = None,
    ) -> None:
        self.environment = environment
        self.flush_seconds = flush_seconds
        self.namespace = namespace
        self.max_series = max_series
        self.max_samples = max_samples
        self.max_active = max_active
        self._write = write or _write_stdout
        self._active_counter = active_counter
        self._lock = threading.Lock()
        self._series: dict[tuple[str, Dimensions], _Series] = {}
        self._active: set[str] = set()
        self._dropped = 0
        self._thread_pid: int | None = None
        self._stop = threading.Event()

    # -- recording (the request path) --------------------------------------------------------

    def count(self, name: str, value: float = 1, *, unit: str = "Count", **dimensions: str) -> None:
        """Add to a counter; CloudWatch's Sum over a period is the total."""
        key = (name, tuple(sorted(dimensions.items())))
        with self._lock:
            series = self._get(key, unit)
            if series is not None:
                series.total += value
        self._ensure_thread()

    def observe(self, name: str, value: float, *, unit: str = "Milliseconds", **dimensions: str) -> None:
        """Record one value of a distribution (latency): percentiles come from the raw values."""
        key = (name, tuple(sorted(dimensions.items())))
        with self._lock:
            series = self._get(key, unit)
            if series is not None:
                series.seen += 1
                if len(series.samples) < self.max_samples:
                    series.samples.append(value)
                else:
                    # Reservoir sampling: every value of the interval has the same chance to stay.
                    slot = random.randrange(series.seen)
                    if slot < self.max_samples:
                        series.samples[slot] = value
        self._ensure_thread()

    def employee_seen(self, subject: str) -> None:
        """Note that an employee made a request (the subject never leaves this process)."""
        with self._lock:
            if len(self._active) < self.max_active:
                self._active.add(subject)
            else:
                self._dropped += 1

    def _get(self, key: tuple[str, Dimensions], unit: str) -> _Series | None:
        series = self._series.get(key)
        if series is None:
            if len(self._series) >= self.max_series:
                self._dropped += 1
                return None
            series = self._series[key] = _Series(unit=unit)
        return series

    # -- writing (the background thread) -----------------------------------------------------

    def flush(self) -> int:
        """Write everything recorded since the last flush; returns the number of lines."""
        with self._lock:
            series, self._series = self._series, {}
            active, self._active = self._active, set()
            dropped, self._dropped = self._dropped, 0
        lines = self.render(series, dropped=dropped, active_count=self._count_active(active))
        for line in lines:
            try:
                self._write(line)
            except Exception:  # a closed stdout must never take the worker down
                logger.warning("metrics line could not be written", exc_info=True)
                break
        return len(lines)

    def render(
        self,
        series: dict[tuple[str, Dimensions], _Series],
        *,
        dropped: int = 0,
        active_count: int | None = None,
    ) -> list[str]:
        # One document per dimension set, every metric of that set in it.
        groups: dict[Dimensions, MetricsContext] = {}

        def context_for(dims: Dimensions) -> MetricsContext:
            context = groups.get(dims)
            if context is None:
                context = MetricsContext(namespace=self.namespace)
                dimension_sets = [{"Environment": self.environment, **dict(dims)}]
                if dims:
                    dimension_sets.append({"Environment": self.environment})
                context.set_dimensions(dimension_sets)
                groups[dims] = context
            return context

        for (name, dims), item in sorted(series.items()):
            context = context_for(dims)
            if item.samples:
                for value in item.samples:
                    context.put_metric(name, value, item.unit)
            elif not item.seen:
                context.put_metric(name, item.total, item.unit)
        if dropped:
            context_for(()).put_metric("MetricsDropped", dropped, "Count")
        if active_count is not None:
            context_for(()).put_metric("ActiveEmployees", active_count, "Count")
        lines: list[str] = []
        for context in groups.values():
            if context.metrics:
                lines.extend(LogSerializer.serialize(context))
        return lines

    def _count_active(self, active: set[str]) -> int | None:
        if self._active_counter is None:
            return None
        try:
            return self._active_counter(active)
        except Exception:  # the shared cache is down: the other metrics still go out
            logger.warning("active-employee count unavailable", exc_info=True)
            return None

    def _ensure_thread(self) -> None:
        # After gunicorn forks a worker the parent's thread does not exist in the child.
        pid = os.getpid()
        if self._thread_pid == pid:
            return
        with self._lock:
            if self._thread_pid == pid:
                return
            self._thread_pid = pid
            self._stop = threading.Event()
            thread = threading.Thread(target=self._run, name="metrics-flush", daemon=True)
            thread.start()
            atexit.register(self.flush)

    def _run(self) -> None:
        stop = self._stop
        while not stop.wait(self.flush_seconds):
            try:
                self.flush()
            except Exception:
                logger.exception("metrics flush failed")

    def stop(self) -> None:
        self._stop.set()
        atexit.unregister(self.flush)


def _write_stdout(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def cache_active_counter(
    *, secret: str, window_seconds: int = ACTIVE_WINDOW_SECONDS
) -> Callable[[Iterable[str]], int]:
    """Distinct employees in the current window across every task, kept in the shared cache.

    Each process offers the employees it saw as keyed hashes; ``cache.add`` is atomic in Redis
    and in the database cache, so only the first process to offer an employee in a window
    raises the window's counter. Each flush then reports the counter: dashboards read its
    Maximum per window. The hashes expire with the window's second successor.
    """

    def count(subjects: Iterable[str]) -> int:
        from django.core.cache import cache

        window = int(time.time() // window_seconds)
        counter = f"metrics:active:{window}"
        timeout = 2 * window_seconds
        for subject in subjects:
            digest = hmac.new(secret.encode(), subject.encode(), hashlib.sha256).hexdigest()[:32]
            if cache.add(f"{counter}:{digest}", 1, timeout=timeout):
                cache.add(counter, 0, timeout=timeout)
                cache.incr(counter)
        return int(cache.get(counter, 0))

    return count


_recorder: MetricsRecorder | None = None
_recorder_lock = threading.Lock()


def enabled() -> bool:
    from django.conf import settings

    return bool(getattr(settings, "METRICS_ENABLED", False))


def get_recorder() -> MetricsRecorder:
    global _recorder
    if _recorder is None:
        from django.conf import settings

        with _recorder_lock:
            if _recorder is None:
                _recorder = MetricsRecorder(
                    environment=settings.METRICS_ENVIRONMENT,
                    flush_seconds=settings.METRICS_FLUSH_SECONDS,
                    active_counter=cache_active_counter(secret=settings.SECRET_KEY),
                )
    return _recorder


def reset_recorder(recorder: MetricsRecorder | None = None) -> None:
    """Replace the process's recorder (tests install one that writes to a list)."""
    global _recorder
    if _recorder is not None:
        _recorder.stop()
    _recorder = recorder


def count(name: str, value: float = 1, *, unit: str = "Count", **dimensions: str) -> None:
    if enabled():
        get_recorder().count(name, value, unit=unit, **dimensions)


def observe(name: str, value: float, *, unit: str = "Milliseconds", **dimensions: str) -> None:
    if enabled():
        get_recorder().observe(name, value, unit=unit, **dimensions)


def employee_seen(subject: Any) -> None:
    if enabled():
        get_recorder().employee_seen(str(subject))


def database_error(exc: BaseException, *, kind: str) -> None:
    """Count a database failure once, however many layers see the same exception."""
    if enabled() and not getattr(exc, "_metrics_counted", False):
        with contextlib.suppress(AttributeError):  # an exception class with __slots__
            exc._metrics_counted = True  # type: ignore[attr-defined]
        get_recorder().count("DatabaseErrors", Kind=kind)
