"""Product cards, rendered once per process and reused while what they show is unchanged.

A catalog page is a grid of cards, and rendering the card template twelve times was most of
the page's cost (bench/RESULTS.md, "Storefront"). A card shows only the product's own fields
(name, cost, pictures, stock state), so the rendered HTML is kept under a key made of exactly
those values: a card can never be stale, because any change to what it shows is a new key.
Entries also expire after ``STOREFRONT_CARD_CACHE_SECONDS``, because a picture's URL in the
private bucket is signed and must not be served past its validity; that is well under it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from catalog.models import Product
from storefront.fragments import FragmentStore

MAX_CARDS = 4096  # per process; a card is about 700 bytes
LOW_STOCK = 5  # at or under this, a card says how many are left (partials/stock.html)
TEMPLATE = "storefront/partials/product_card.html"

_cards = FragmentStore(max_entries=MAX_CARDS)


def _stock_state(stock: int) -> int:
    """What a card says about stock: out (0), the number left (1 to LOW_STOCK), or in stock (-1)."""
    if stock <= 0:
        return 0
    return stock if stock <= LOW_STOCK else -1


def card_key(product: Product) -> tuple[Any, ...]:
    """Everything a product's card shows: the card is kept under it."""
    return card_key_of(
        str(product.pk),
        product.name,
        product.points_cost,
        product.thumbnail.name,
        product.image.name,
        product.stock,
    )


def card_key_of(
    product_id: str, name: str, points_cost: int, thumbnail: str | None, image: str | None, stock: int
) -> tuple[Any, ...]:
    """``card_key`` from the values themselves (catalog.selectors.SHOWN_COLUMNS, a picture as its
    file name), for a kept page checked against the database without building its products."""
    return (product_id, name, points_cost, thumbnail or "", image or "", _stock_state(stock), get_language())


def product_cards(products: Iterable[Product], *, fresh: bool = False) -> SafeString:
    """The cards of ``products``, in order, from the cache where it has them.

    ``fresh`` renders every card anew (and keeps it): for HTML that is itself kept for up to
    ``STOREFRONT_CARD_CACHE_SECONDS`` (storefront/fragments.py), so that no card in it is older.
    """
    parts = [_cards.get(card_key(product), partial(_render, product), fresh=fresh) for product in products]
    return SafeString("".join(parts))  # each part is the template's own escaped output


def _render(product: Product) -> str:
    return render_to_string(TEMPLATE, {"product": product})


def product_cards_clear() -> None:
    _cards.clear()
