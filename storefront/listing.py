"""The catalog page's listings and category choices, kept in each server process, never stale.

The catalog page used to build everything on every request: the category choices with their
product counts, the number of matching products and the page of them (three queries and most
of the page's CPU; bench/RESULTS.md, "Storefront"). They change only when the catalog does, so
they are kept under the catalog version token (catalog.models.CatalogVersion), the protocol the
API's product pages follow (catalog.page_cache): every product or category save or delete, and
every stock level reaching or leaving zero, commits a new token.

Serving a kept page costs one query: the token and, for each product on the page, everything
its card shows (name, cost, pictures, stock) and whether it is still listed, read together. If
the token is another, the page and the category choices are built again; otherwise the cards
are drawn from the live values. So an employee sees what a fresh build would show at that
moment. Entries also expire after ``CATALOG_CACHE_SECONDS`` (0 keeps nothing), which bounds
what a change made behind the services' back could leave.

Pages filtered by what the employee can afford depend on their balance and are never kept, so
a kept page carries nobody's data: nothing else on it depends on who asks.

The catalog view also keeps the rendered listing (filters, cards, pagination; the view's
FragmentStore), and a **recipe** per exact request (language and query string, as sent): the
token the listing was built under, its products' ids and the rest of its fragment's key. A
request with a recipe is answered from the kept HTML after the same one query, without building
the filter form or the products (``recipe_listing_key``): if the token is still the recipe's,
the categories, count and order are the ones the listing shows, and the cards' keys, made from
the live values, complete the fragment's key; anything else falls back to building the page.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator

from catalog.models import Product
from catalog.selectors import (
    SHOWN_COLUMNS,
    catalog_version_token,
    category_list,
    category_list_with_version,
    products_shown_with_version,
)
from storefront.cards import card_key_of
from storefront.fragments import KeptStore

MAX_LISTINGS = 256  # per process; a page of 12 products is a few KB
MAX_RECIPES = 1024  # per process; a recipe is its key, a token and up to 12 ids
_LIVE = SHOWN_COLUMNS.index("is_active")
_SHOWN = [(i, name) for i, name in enumerate(SHOWN_COLUMNS) if name != "is_active"]
_CARD = tuple(SHOWN_COLUMNS.index(name) for name in ("name", "points_cost", "thumbnail", "image", "stock"))


@dataclass(frozen=True)
class Categories:
    """The catalog's category choices (slug, name): the categories with an active product."""

    token: str | None  # the catalog version they were built under; None: not kept
    choices: tuple[tuple[str, str], ...]
    expires: float


@dataclass(frozen=True)
class _Listing:
    count: int
    per_page: int
    products: tuple[Product, ...]  # as built; only copies of them leave this module


@dataclass(frozen=True)
class _Recipe:
    token: str
    ids: tuple[str, ...]
    key: tuple[Any, ...]  # the fragment key's parts before the cards'


_lock = threading.Lock()
_categories: Categories | None = None
_listings: KeptStore[_Listing] = KeptStore(max_entries=MAX_LISTINGS)
_recipes: KeptStore[_Recipe] = KeptStore(max_entries=MAX_RECIPES)


def listing_cache_clear() -> None:
    global _categories
    with _lock:
        _categories = None
    _listings.clear()
    _recipes.clear()


def recipe_keep(
    request_key: Hashable, *, token: str | None, ids: Sequence[str], key: tuple[Any, ...]
) -> None:
    """Remember how the listing for ``request_key`` was built: under ``token`` (the categories'
    token, read before the page was built), of these products, its fragment key's other parts."""
    if token is not None:
        seconds = settings.CATALOG_CACHE_SECONDS
        _recipes.put(request_key, _Recipe(token, tuple(ids), key), seconds)


def recipe_listing_key(request_key: Hashable) -> tuple[Any, ...] | None:
    """The fragment key a fresh build for ``request_key`` would use, with one query, or None.

    None when there is no recipe, or the catalog's token is no longer the recipe's, or one of
    its products is no longer listed: the caller builds the page.
    """
    recipe = _recipes.peek(request_key)
    if recipe is None:
        return None
    shown, token = products_shown_with_version(product_ids=recipe.ids)
    if token != recipe.token:
        return None
    cards = []
    for i in recipe.ids:
        values = shown.get(i)
        if values is None or not values[_LIVE]:
            return None
        cards.append(card_key_of(i, *(values[j] for j in _CARD)))
    return (*recipe.key, tuple(cards))


def cacheable(params: Mapping[str, str]) -> bool:
    return settings.CATALOG_CACHE_SECONDS > 0 and "affordable" not in params


def categories_get(*, token: str | None = None, reload: bool = False) -> tuple[Categories, bool]:
    """The category choices, and whether they were built just now (their token is then current).

    Kept ones are returned as they are; the caller checks their token against the catalog's.
    ``reload`` builds them again, under ``token`` when the caller has just read it.
    """
    global _categories
    seconds = settings.CATALOG_CACHE_SECONDS
    kept = _categories
    if not reload and kept is not None and kept.expires > time.monotonic():
        return kept, False
    if token is None and seconds > 0:
        # The token with the categories, in one statement: the token they were built under.
        categories, token = category_list_with_version()
    else:
        # A token the caller read before this: a change committed meanwhile leaves newer choices
        # under an older token, which the next request sees as outdated; never the other way round.
        categories = list(category_list())
    choices = tuple((c.slug, c.name) for c in categories if c.product_count)  # type: ignore[attr-defined]
    built = Categories(token if seconds > 0 else None, choices, time.monotonic() + seconds)
    if built.token is not None:
        with _lock:
            _categories = built
    return built, True


def listing_get(
    *, categories: Categories, key: tuple[Any, ...] | None, current: bool = False
) -> tuple[Page | None, str | None]:
    """The kept page for ``key`` with live cards, or None and the catalog's current token.

    None also when the page is not kept (or not to be kept: ``key`` None); the token is then
    what the caller compares with ``categories.token`` before building the page. ``current``:
    the categories' token was read during this request, so a missing page needs no new read.
    """
    if categories.token is None:
        return None, None  # nothing is kept, so nothing is compared
    listing = _listings.peek((categories.token, *key)) if key is not None else None
    if listing is None:
        return None, categories.token if current else catalog_version_token()
    ids = [str(product.pk) for product in listing.products]
    shown, token = products_shown_with_version(product_ids=ids)
    if token != categories.token or any(not shown.get(i, (False,) * len(SHOWN_COLUMNS))[_LIVE] for i in ids):
        return None, token
    products = [_as_shown(product, shown[i]) for product, i in zip(listing.products, ids, strict=True)]
    return _page(listing, products, key), token


def listing_keep(*, categories: Categories, key: tuple[Any, ...] | None, page: Page) -> None:
    """Keep a page built under ``categories.token`` (read before it was built)."""
    seconds = settings.CATALOG_CACHE_SECONDS
    if key is None or categories.token is None or seconds <= 0:
        return
    paginator = page.paginator
    listing = _Listing(paginator.count, paginator.per_page, tuple(page.object_list))
    _listings.put((categories.token, *key), listing, seconds)


def catalog_listing(
    *,
    filters: Callable[[Categories], tuple[Any, Mapping[str, str]]],
    number: int,
    build: Callable[[Mapping[str, str]], Page],
) -> tuple[Any, Mapping[str, str], Page, str | None]:
    """The catalog's filter form, its parameters, the page ``number`` of matching products, and
    the catalog token they were built under (None: not to be kept, or nothing is kept).

    ``filters(categories)`` validates the request's filters against the category choices;
    ``build(params)`` queries the page (raising Http404 past the end). Kept choices and pages
    are used while the catalog's token is theirs, and built again otherwise.
    """
    categories, fresh = categories_get()
    form, params = filters(categories)
    key = (*sorted(params.items()), number) if cacheable(params) else None
    page, token = listing_get(categories=categories, key=key, current=fresh)
    if page is not None:
        return form, params, page, categories.token
    if token != categories.token:
        categories, _ = categories_get(token=token, reload=True)
        form, params = filters(categories)
        key = (*sorted(params.items()), number) if cacheable(params) else None
    page = build(params)
    listing_keep(categories=categories, key=key, page=page)
    return form, params, page, categories.token if key is not None else None


def _as_shown(product: Product, values: Sequence[Any]) -> Product:
    """A copy of a kept product with what its card shows as the database has it now."""
    shown = copy.copy(product)
    for i, name in _SHOWN:
        setattr(shown, name, values[i])  # a picture's column is its file name, as assigned
    return shown


def _page(listing: _Listing, products: list[Product], key: tuple[Any, ...] | None) -> Page:
    """The page as the view's paginator made it: its number is the key's last part."""
    assert key is not None
    paginator = Paginator(products, listing.per_page)
    paginator.count = listing.count  # a cached_property: set, nothing is counted
    return Page(products, key[-1], paginator)
