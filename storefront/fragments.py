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
from typing import Generic, TypeVar

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

V = TypeVar("V")


class KeptStore(Generic[V]):
    """A small thread-safe LRU with an expiry per entry: what the storefront keeps per process."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: Hashable) -> V | None:
        """The value kept under ``key`` and not expired, or None."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is None or hit[0] <= time.monotonic():
                return None
            self._entries.move_to_end(key)
        return hit[1]

    def put(self, key: Hashable, value: V, seconds: float) -> None:
        """Keep ``value`` for ``seconds`` (nothing when 0 or less), the oldest entry dropped."""
        if seconds <= 0:
            return
        with self._lock:
            self._entries[key] = (time.monotonic() + seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class FragmentStore(KeptStore[str]):
    """Rendered HTML kept under a key of everything it shows, for STOREFRONT_CARD_CACHE_SECONDS."""

    def get(self, key: Hashable, render: Callable[[], str], *, fresh: bool = False) -> SafeString:
        """The fragment kept under ``key``, or ``render()``'s (escaped HTML), kept from now on.

        ``fresh`` renders anew even when a fragment is kept, and keeps the new one.
        """
        html = None if fresh else super().peek(key)
        if html is None:
            html = render()
            self.put(key, html, settings.STOREFRONT_CARD_CACHE_SECONDS)
        return mark_safe(html)  # noqa: S308 (the template's own escaped output)

    def peek(self, key: Hashable) -> SafeString | None:
        """The fragment kept under ``key`` and not expired, or None; nothing is rendered."""
        html = super().peek(key)
        return None if html is None else mark_safe(html)  # noqa: S308 (the template's own escaped output)
