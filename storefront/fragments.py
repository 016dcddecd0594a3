"""Rendered HTML kept in each server process under a key of everything it shows.

A fragment is kept only under a key made of every value its rendering depends on, so a kept
fragment is exactly what rendering it again would give: it cannot be stale, because any change
to what it shows is another key. Entries also expire after ``STOREFRONT_CARD_CACHE_SECONDS``
(0 keeps nothing): a product picture's URL in the private bucket is signed and must not be
served past its validity, which is well over that. A kept fragment's product cards are
rendered with it, not taken from the cards' own cache (``cards_fresh``), so none is older.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe


class FragmentStore:
    """A small thread-safe LRU of rendered HTML with an expiry per entry."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, render: Callable[[], str], *, fresh: bool = False) -> SafeString:
        """The fragment kept under ``key``, or ``render()``'s (escaped HTML), kept from now on.

        ``fresh`` renders anew even when a fragment is kept, and keeps the new one.
        """
        now = time.monotonic()
        with self._lock:
            hit = None if fresh else self._entries.get(key)
            if hit is not None and hit[0] > now:
                self._entries.move_to_end(key)
                return mark_safe(hit[1])  # noqa: S308 (the template's own escaped output)
        html = render()
        seconds = settings.STOREFRONT_CARD_CACHE_SECONDS
        if seconds > 0:
            with self._lock:
                self._entries[key] = (now + seconds, html)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return mark_safe(html)  # noqa: S308 (the template's own escaped output)

    def peek(self, key: Hashable) -> SafeString | None:
        """The fragment kept under ``key`` and not expired, or None; nothing is rendered."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is None or hit[0] <= time.monotonic():
                return None
            self._entries.move_to_end(key)
        return mark_safe(hit[1])  # noqa: S308 (the template's own escaped output)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
