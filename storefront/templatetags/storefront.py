"""One way to write numbers and dates on every storefront page, and the pages' cheaper tags."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Hashable, Iterable
from types import MappingProxyType
from typing import Any

from django import template
from django.conf import settings
from django.forms import BoundField
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import ngettext

from storefront import cards

register = template.Library()


@register.filter
def number(value: int | None) -> str:
    """1234567 -> "1,234,567" (a minus sign kept)."""
    if value is None:
        return ""
    return f"{int(value):,}"


@register.filter
def points(value: int | None) -> str:
    """1234 -> "1,234 points", 1 -> "1 point"."""
    if value is None:
        return ""
    amount = int(value)
    return ngettext("%(n)s point", "%(n)s points", abs(amount)) % {"n": f"{amount:,}"}


@register.filter
def signed_points(value: int) -> str:
    """A ledger amount with its sign: "+500", or U+2212 before 250 (a true minus sign, read as "minus")."""
    amount = int(value)
    return f"+{amount:,}" if amount > 0 else f"\u2212{abs(amount):,}" if amount < 0 else "0"


@register.filter
def day(value: dt.date | dt.datetime | None) -> str:
    """6 Dec 2026."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value)
    return date_format(value, "j M Y")


@register.filter
def moment(value: dt.datetime | None) -> str:
    """6 Dec 2026, 17:08."""
    if value is None:
        return ""
    return date_format(timezone.localtime(value), "j M Y, H:i")


@register.simple_tag(takes_context=True)
def product_cards(context: template.Context, products: Any) -> SafeString:
    """The product cards of a grid (storefront/cards.py keeps each card's rendering; a template
    that is itself kept sets ``cards_fresh`` so that its cards are rendered with it)."""
    return cards.product_cards(products, fresh=bool(context.get("cards_fresh")))


# The addresses every page's header and navigation link to (base.html); "sign-out" is read as
# ``urls.sign_out`` in a template.
PAGE_URLS = ("home", "catalog", "orders", "history", "preferences", "sign-out")
_page_urls: dict[Hashable, MappingProxyType[str, str]] = {}
_page_urls_lock = threading.Lock()


@register.simple_tag
def storefront_urls() -> MappingProxyType[str, str]:
    """``PAGE_URLS`` reversed, once per URL configuration and script prefix (all they depend on).

    Every page linked to them through a dozen ``{% url %}`` tags, a tenth of its rendering
    (bench/RESULTS.md, "Storefront").
    """
    key = (get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    urls = _page_urls.get(key)
    if urls is None:
        urls = MappingProxyType({name.replace("-", "_"): reverse(f"storefront:{name}") for name in PAGE_URLS})
        with _page_urls_lock:
            _page_urls[key] = urls
    return urls


# The navigation's sections, and the address each is the current one at (or under: True).
_SECTIONS = (("home", False), ("catalog", True), ("orders", True), ("history", False), ("preferences", False))


@register.simple_tag(takes_context=True)
def nav_section(context: template.Context) -> str:
    """The navigation entry the page belongs to ("" for none): its link says aria-current."""
    request = context.get("request")
    path = request.path if request is not None else ""
    urls = storefront_urls()
    for name, below in _SECTIONS:
        if path == urls[name] or (below and path.startswith(urls[name])):
            return name
    return ""


@register.simple_tag
def select_options(field: BoundField) -> SafeString:
    """A select field's ``<option>``s, the chosen one ``selected``, each on its own line.

    The markup a ``{% for %}`` loop wrote, built in one call: the loop over the catalog's
    categories and sorts was the largest part of the filter form's rendering.
    """
    value = field.value()
    chosen = "" if value is None else value
    choices: Iterable[tuple[Any, Any]] = field.field.choices  # type: ignore[attr-defined]
    return format_html_join(
        "",
        '\n    <option value="{}"{}>{}</option>',
        ((option, " selected" if option == chosen else "", label) for option, label in choices),
    )
