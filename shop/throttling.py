"""Rate limits for the API, counted in the shared cache so they hold across server processes.

Only order placement is limited: reads are cheap, and a runaway client placing orders is the
case that costs employees points and stock. Counts live in the default cache (Redis or a
database table), not in process memory, so 2 or 10 containers enforce one limit together.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle

logger = logging.getLogger(__name__)


class OrderPlacementThrottle(UserRateThrottle):
    """POST /api/v1/orders/ per employee, at ORDER_RATE_LIMIT (e.g. "30/min")."""

    scope = "order_place"

    def __init__(self) -> None:
        # Looked up per request, not bound at import, so settings overrides take effect.
        self.cache = caches["default"]
        super().__init__()

    def get_rate(self) -> str | None:
        # Read at request time: DRF binds THROTTLE_RATES at import, which tests cannot override.
        rate: str | None = settings.ORDER_RATE_LIMIT
        return rate

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method != "POST":
            return True
        try:
            return super().allow_request(request, view)
        except Exception:  # any cache failure: Redis down, a timeout, a missing table
            # The limit is a guard against runaway clients, not a correctness rule (balances and
            # stock are protected by the database): an unreachable cache lets the order through.
            logger.warning("order throttle cache unavailable; request allowed", exc_info=True)
            return True

    def wait(self) -> float | None:
        # DRF answers None when the history overflowed (concurrent requests from one user);
        # a 429 must still say when to retry: when the oldest counted request ages out.
        _, duration = self.parse_rate(self.rate)
        if duration is None:
            return None
        if not self.history:
            return float(duration)
        return max(1.0, duration - (self.now - self.history[-1]))
