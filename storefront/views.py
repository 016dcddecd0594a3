"""The storefront's pages that read: home, catalog, product, my orders, points history, e-mails.

Every read goes through the domain apps' selectors (and the catalog's own product filter), so
the pages show what the API shows for the same employee; `storefront/redeem.py` places orders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from catalog.filters import ProductFilter
from catalog.models import Product
from catalog.selectors import product_list_visible
from notifications.services import preference_get, preference_set
from orders.selectors import order_list
from points.expiry import expiry_months
from points.selectors import account_get, ledger_list, points_expiring
from storefront.access import employee_required
from storefront.cards import card_key
from storefront.forms import CatalogFilterForm, PreferencesForm, QuantityForm
from storefront.fragments import FragmentStore
from storefront.listing import Categories, catalog_listing, recipe_keep, recipe_listing_key
from storefront.templatetags.storefront import storefront_urls

CATALOG_PAGE_SIZE = 12
CATALOG_LISTING = "storefront/partials/catalog_listing.html"
# Per process; a rendered listing (filters and 12 cards) is about 12 KB.
_catalog_listings = FragmentStore(max_entries=256)
LIST_PAGE_SIZE = 20
EXPIRING_SOON_DAYS = 30  # the API's /me uses the same window (points.apis.EXPIRING_SOON_DAYS)
HOME_PRODUCTS = 4
HOME_ACTIVITY = 5


def _page_number(request: HttpRequest) -> int:
    """The page asked for; one that cannot exist is a 404, as in the API."""
    number = request.GET.get("page", "1")
    if not number.isdigit() or int(number) < 1:
        raise Http404(_("There is no such page."))
    return int(number)


def _page(request: HttpRequest, items: Any, size: int) -> Page:
    """A page of ``items``; a page number out of range is a 404, as in the API."""
    paginator = Paginator(items, size)
    number = _page_number(request)
    if number > max(1, paginator.num_pages):
        raise Http404(_("There is no such page."))
    return paginator.page(number)


def _query_without_page(request: HttpRequest) -> str:
    query: QueryDict = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@employee_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    account = account_get(user=user)  # type: ignore[arg-type]
    expiring = None
    if expiry_months() > 0:
        soon = points_expiring(user_id=user.pk, after=timezone.localdate(), days=EXPIRING_SOON_DAYS)
        if soon.points and soon.expires_on is not None:
            expiring = soon
    affordable = list(
        product_list_visible()
        .filter(points_cost__lte=account.balance, stock__gt=0)
        .order_by("-points_cost", "name")[:HOME_PRODUCTS]
    )
    context = {
        "account": account,
        "expiring": expiring,
        "activity": list(ledger_list(user=user)[:HOME_ACTIVITY]),  # type: ignore[arg-type]
        "products": affordable,
    }
    return render(request, "storefront/home.html", context)


@employee_required
def catalog(request: HttpRequest) -> HttpResponse:
    number = _page_number(request)
    # The request as sent decides everything the listing shows but the live values (the order of
    # its parameters too: it is kept in the pagination links).
    request_key = (
        get_language(),
        storefront_urls()["catalog"],
        tuple((k, tuple(v)) for k, v in request.GET.lists()),
    )
    key = None if "affordable" in request.GET else recipe_listing_key(request_key)
    listing = _catalog_listings.peek(key) if key is not None else None
    if listing is None:
        listing = _catalog_listing(request, number, request_key)
    account = account_get(user=request.user)  # type: ignore[arg-type]
    return render(request, "storefront/catalog.html", {"listing": listing, "account": account})


def _catalog_listing(request: HttpRequest, number: int, request_key: tuple[Any, ...]) -> SafeString:
    """The catalog's filters and page of products, rendered, or taken from those kept."""

    def filters(categories: Categories) -> tuple[CatalogFilterForm, dict[str, str]]:
        form = CatalogFilterForm(request.GET or None, categories=categories.choices)
        if form.is_bound:
            # An invalid filter (an old bookmark's category, a search over 200 characters) is
            # left out and named on the page; the valid ones still apply.
            form.is_valid()
            return form, form.filter_params()
        return form, {"ordering": "name"}

    def build(params: Mapping[str, str]) -> Page:
        products = ProductFilter(params, queryset=product_list_visible(), request=request).qs
        return _page(request, products, CATALOG_PAGE_SIZE)

    # The choices and the page are kept per process while the catalog is unchanged
    # (storefront/listing.py); the balance is read on every request.
    form, params, page, token = catalog_listing(filters=filters, number=number, build=build)
    query = _query_without_page(request)
    shown = {
        "form": form,
        "page": page,
        "query": query,
        "filtered": any(k in params for k in ("search", "category", "affordable", "in_stock")),
        # Kept cards would make the kept HTML older than its own expiry (signed picture URLs).
        "cards_fresh": True,
    }
    # The filters and the page of products, kept under everything they show (the rest of the
    # key's parts decide the form's values, errors and choices, the links and the cards).
    key = (
        get_language(),
        storefront_urls()["catalog"],
        form.is_bound,
        tuple((name, tuple(request.GET.getlist(name))) for name in form.fields),
        form.categories,
        query,
        page.paginator.count,
        page.number,
    )
    cards = tuple(card_key(product) for product in page.object_list)
    listing = _catalog_listings.get((*key, cards), lambda: render_to_string(CATALOG_LISTING, shown))
    # The next request like this one finds the listing from the live values alone.
    recipe_keep(request_key, token=token, ids=[str(product.pk) for product in page.object_list], key=key)
    return listing


@employee_required
def product_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    product = get_object_or_404(product_list_visible(), pk=pk)
    account = account_get(user=request.user)  # type: ignore[arg-type]
    form = QuantityForm(stock=product.stock)
    rows = [
        {"quantity": n, "cost": product.points_cost * n, "after": account.balance - product.points_cost * n}
        for n, _label in form.fields["quantity"].choices  # type: ignore[attr-defined]
    ]
    context = {
        "product": product,
        "account": account,
        "form": form,
        "cost_rows": rows,
        "affordable": account.balance >= product.points_cost,
        "points_short": product.points_cost - account.balance,  # shown when not affordable
    }
    return render(request, "storefront/product.html", context)


@employee_required
def orders(request: HttpRequest) -> HttpResponse:
    page = _page(request, order_list(user=request.user), LIST_PAGE_SIZE)  # type: ignore[arg-type]
    return render(request, "storefront/orders.html", {"page": page, "query": ""})


@employee_required
def order_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    order = get_object_or_404(order_list(user=request.user), pk=pk)  # type: ignore[arg-type]
    return render(request, "storefront/order.html", {"order": order})


@employee_required
def history(request: HttpRequest) -> HttpResponse:
    page = _page(request, ledger_list(user=request.user), LIST_PAGE_SIZE)  # type: ignore[arg-type]
    account = account_get(user=request.user)  # type: ignore[arg-type]
    return render(request, "storefront/history.html", {"page": page, "query": "", "account": account})


@employee_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    current = preference_get(user=request.user)  # type: ignore[arg-type]
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            preference_set(user=request.user, optional_emails=form.cleaned_data["optional_emails"])  # type: ignore[arg-type]
            messages.success(request, _("Your e-mail preferences are saved."))
            return redirect("storefront:preferences")
    else:
        form = PreferencesForm(initial={"optional_emails": current.optional_emails})
    return render(request, "storefront/preferences.html", {"form": form})


def product_or_404(pk: Any) -> Product:
    return get_object_or_404(product_list_visible(), pk=pk)


def catalog_listings_clear() -> None:
    _catalog_listings.clear()
