"""The product list's page cache: serialized pages kept in each server process, never stale.

A page (the paginated body of GET /api/v1/products/ for one query string) is stored with the
catalog version token read before it was built (catalog.models.CatalogVersion). Serving it
again costs one query: the live stock of the page's products and the current token, read
together. If the token changed (a product or category was saved or deleted, or some stock
reached or left zero, in a committed transaction) the page is rebuilt; otherwise its stock
and in_stock fields are replaced by the live values. So what an employee sees is exactly what
a fresh build would show at that moment, except signed image URLs, which are at most
CATALOG_CACHE_SECONDS older (they stay valid far longer than that).

A page also keeps its last rendering (the JSON bytes and their ETag) with the stock levels it
shows: while the live levels are the same, those bytes are served as they are, which is the
same body a new rendering would give, without building, rendering and hashing it again.

Pages filtered by ?affordable= depend on the caller's balance and are never cached, so a page
can never carry another employee's data: nothing else in it depends on who asks.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from catalog.selectors import catalog_version_token, product_stock_with_version
from shop.http.conditional import RenderedJson, json_render

MAX_PAGES = 256  # per process; a page of 20 products is about 10 KB


@dataclass(frozen=True)
class _Rendering:
    stock: tuple[int, ...]  # the page's stock levels, in the order of its ids
    rendered: RenderedJson


@dataclass
class _Page:
    token: str
    expires: float
    ids: tuple[str, ...]
    data: Mapping[str, Any]
    # Replaced whole by whichever thread renders last; any of them is a correct rendering.
    last: _Rendering | None = field(default=None, compare=False)


class _PageStore:
    """A small thread-safe LRU (gthread workers share a process)."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._pages: OrderedDict[tuple[Any, ...], _Page] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> _Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple[Any, ...], page: _Page) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


_store = _PageStore(MAX_PAGES)


def page_cache_clear() -> None:
    _store.clear()


def cacheable(query: Mapping[str, Any]) -> bool:
    return settings.CATALOG_CACHE_SECONDS > 0 and "affordable" not in query


def product_page(*, key: tuple[Any, ...], build: Callable[[], Mapping[str, Any]]) -> RenderedJson:
    """The page for `key`, rendered: the cached one with live stock if still current, else
    `build()`'s."""
    page = _store.get(key)
    if page is not None and page.expires > time.monotonic():
        stock, token = product_stock_with_version(product_ids=page.ids)
        if token == page.token and len(stock) == len(page.ids):
            levels = tuple(stock[i] for i in page.ids)
            last = page.last
            if last is not None and last.stock == levels:
                return last.rendered
            rendered = json_render(_with_stock(page.data, stock))
            page.last = _Rendering(levels, rendered)
            return rendered
    # Read before building: a change committed meanwhile leaves a newer page under an older
    # token, which the next request sees as outdated; never the other way round.
    token = catalog_version_token()
    data = build()
    rendered = json_render(data)
    if token is not None:
        ids = tuple(str(item["id"]) for item in data["results"])
        levels = tuple(item["stock"] for item in data["results"])
        expires = time.monotonic() + settings.CATALOG_CACHE_SECONDS
        _store.put(key, _Page(token, expires, ids, data, _Rendering(levels, rendered)))
    return rendered


def _with_stock(data: Mapping[str, Any], stock: Mapping[str, int]) -> dict[str, Any]:
    out = dict(data)
    out["results"] = [
        {**item, "stock": stock[item["id"]], "in_stock": stock[item["id"]] > 0} for item in data["results"]
    ]
    return out
