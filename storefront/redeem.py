"""Redeeming points: a confirmation page, then one order per confirmation, whatever the browser does.

The confirmation form carries an idempotency key (``web-`` + 32 hex digits) that the order
service stores with the order, exactly as an API client's ``Idempotency-Key``
(`orders.placement.order_place_idempotent`). The key is kept in the session per product and
quantity until an order consumes it, so:

- a double click, a reload of the POST, or Back and resubmit send the same key: one order, and
  the later submissions land on it (the key's order is looked up before anything else);
- the same confirmation open in two tabs shows the same key: one order;
- a confirmation rendered after an order of the same product within ``REPEAT_WINDOW`` asks the
  employee to tick "order it again", so a restored old form cannot order twice by accident.

Refusals are messages on the page and change nothing; a refused key is dropped so the next
attempt (after a grant, say) is a new request rather than a replay of the refusal. A database
outage or a lost COMMIT (``outcome_unknown``) keeps the key, so submitting again is safe.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from catalog.models import Product
from orders.placement import order_body, order_place_idempotent
from orders.selectors import order_id_for_key, order_recent_of_product
from orders.services import MAX_QUANTITY
from points.selectors import account_get
from shop.http.errors import ApplicationError, OutcomeUnknown, is_driver_connection_error
from shop.http.throttling import OrderPlacementThrottle
from shop.models import User
from storefront.access import employee_required
from storefront.forms import RedeemForm
from storefront.templatetags.storefront import number
from storefront.views import product_or_404

logger = logging.getLogger(__name__)

REPEAT_WINDOW = timedelta(minutes=15)
SESSION_KEYS = "storefront_redeem_keys"
MAX_PENDING_KEYS = 20


def refusal_message(code: str) -> str:
    return {
        "insufficient_points": _("You do not have enough points for this order. Nothing was charged."),
        "out_of_stock": _("There is not enough stock left for this order. Nothing was charged."),
        "product_unavailable": _("This product can no longer be ordered. Nothing was charged."),
        "idempotency_request_in_progress": _(
            "This order is still being placed. Wait a moment, then look at My orders."
        ),
        "service_unavailable": _(
            "The shop could not save your order just now. Nothing was charged; try again in a minute."
        ),
        "outcome_unknown": _(
            "We lost the connection while saving your order, so we cannot tell whether it was "
            "placed. Look at My orders or your points history before ordering again; sending this "
            "form again is safe: it never orders twice."
        ),
    }.get(code, _("The order could not be placed. Nothing was charged."))


def blocked_reason(*, product: Product, quantity: int, balance: int) -> str:
    """Why this order cannot be placed as the page shows it, or "" when it can.

    The confirmation then says so instead of offering the button: an employee who opened it from
    an old tab, or after someone else took the last item, learns why before anything is sent.
    """
    if not product.is_active:  # taken off the catalog since the page was opened
        return _("This product can no longer be ordered.")
    if product.stock < quantity:
        if product.stock == 0:
            return _("This product is out of stock, so it cannot be ordered now.")
        return ngettext(
            "Only %(stock)s is left in stock: choose a smaller quantity.",
            "Only %(stock)s are left in stock: choose a smaller quantity.",
            product.stock,
        ) % {"stock": number(product.stock)}
    short = product.points_cost * quantity - balance
    if short > 0:
        return ngettext(
            "You need %(short)s more point for this order.",
            "You need %(short)s more points for this order.",
            short,
        ) % {"short": number(short)}
    return ""


def _slot(product_id: Any, quantity: int) -> str:
    return f"{product_id}:{quantity}"


def _pending_key(request: HttpRequest, product_id: Any, quantity: int) -> str:
    keys: dict[str, str] = request.session.get(SESSION_KEYS, {})
    key = keys.get(_slot(product_id, quantity))
    if key is None:
        key = f"web-{uuid.uuid4().hex}"
        if len(keys) >= MAX_PENDING_KEYS:
            keys.pop(next(iter(keys)))  # the oldest confirmation nobody submitted
        keys[_slot(product_id, quantity)] = key
        request.session[SESSION_KEYS] = keys
    return key


def _drop_key(request: HttpRequest, product_id: Any, quantity: int, key: str) -> None:
    keys: dict[str, str] = request.session.get(SESSION_KEYS, {})
    if keys.get(_slot(product_id, quantity)) == key:
        del keys[_slot(product_id, quantity)]
        request.session[SESSION_KEYS] = keys


def _quantity(raw: str | None) -> int | None:
    if raw is None or not raw.isdigit():
        return None
    quantity = int(raw)
    return quantity if 1 <= quantity <= MAX_QUANTITY else None


def _confirm_page(
    request: HttpRequest,
    *,
    product: Product,
    quantity: int,
    form: RedeemForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    account = account_get(user=user)
    key = _pending_key(request, product.pk, quantity)
    recent = order_recent_of_product(user=user, product_id=product.pk, since=timezone.now() - REPEAT_WINDOW)
    if form is None or error:
        form = RedeemForm(initial={"quantity": quantity, "key": key})
    cost = product.points_cost * quantity
    context = {
        "product": product,
        "quantity": quantity,
        "cost": cost,
        "account": account,
        "balance_after": account.balance - cost,
        "form": form,
        "recent": recent,
        "error": error,
        # Shown when no refusal says it already; either way there is no button to press.
        "blocked": blocked_reason(product=product, quantity=quantity, balance=account.balance),
    }
    return render(request, "storefront/redeem.html", context, status=status)


@never_cache
@employee_required
@require_http_methods(["GET", "POST"])
def redeem(request: HttpRequest, pk: Any) -> HttpResponse:
    if request.method == "POST":
        # Any product, active or not: the order service refuses an inactive one with its own
        # answer (product_unavailable), which the page then shows.
        return _redeem_post(request, get_object_or_404(Product, pk=pk))
    product = product_or_404(pk)
    quantity = _quantity(request.GET.get("quantity", "1"))
    if quantity is None:
        # The most the product page's menu offers: no more than what is in stock.
        most = min(MAX_QUANTITY, product.stock) or MAX_QUANTITY
        messages.error(request, _("Choose a quantity from 1 to %(most)d.") % {"most": most})
        return redirect("storefront:product", pk=product.pk)
    return _confirm_page(request, product=product, quantity=quantity)


def _redeem_post(request: HttpRequest, product: Product) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = RedeemForm(request.POST)
    if not form.is_valid():
        return _confirm_page(
            request,
            product=product,
            quantity=_quantity(request.POST.get("quantity")) or 1,
            error=_("The form was incomplete. Check the order and confirm again."),
            status=400,
        )
    quantity: int = form.cleaned_data["quantity"]
    key: str = form.cleaned_data["key"]
    try:
        # A key that already placed an order (a double click, a reload, Back and resubmit, a
        # second tab): show that order rather than anything else.
        placed = order_id_for_key(user=user, key=key)
        if placed is not None:
            _drop_key(request, product.pk, quantity, key)
            return redirect("storefront:order", pk=placed)
        recent = order_recent_of_product(
            user=user, product_id=product.pk, since=timezone.now() - REPEAT_WINDOW
        )
        if recent is not None and not form.cleaned_data["confirm_repeat"]:
            form.add_error(
                "confirm_repeat",
                _("You ordered this product a few minutes ago. Tick the box if you want another order."),
            )
            return _confirm_page(request, product=product, quantity=quantity, form=form, status=400)
        throttle = OrderPlacementThrottle()
        if not throttle.allow_request(request, None):  # type: ignore[arg-type]
            wait = int(throttle.wait() or 60)
            return _confirm_page(
                request,
                product=product,
                quantity=quantity,
                error=_("You have placed many orders in a short time. Try again in %(seconds)d seconds.")
                % {"seconds": wait},
                status=429,
            )
        placement = order_place_idempotent(
            user=user,
            product_id=product.pk,
            quantity=quantity,
            key=key,
            body_for=lambda order: order_body(order, request),
        )
    except OutcomeUnknown:
        return _unavailable(request, refusal_message("outcome_unknown"))
    except ApplicationError as exc:
        if exc.status_code >= 500:
            return _unavailable(request, refusal_message(exc.code))
        _drop_key(request, product.pk, quantity, key)  # a refusal is final for this key
        return _confirm_page(
            request,
            product=product,
            quantity=quantity,
            error=refusal_message(exc.code),
            status=exc.status_code,
        )
    except (OperationalError, InterfaceError) as exc:
        logger.warning("storefront redeem: database unavailable: %s", exc)
        return _unavailable(request, refusal_message("service_unavailable"))
    except Exception as exc:
        if not is_driver_connection_error(exc):
            raise
        logger.warning("storefront redeem: database unavailable: %s", exc)
        return _unavailable(request, refusal_message("service_unavailable"))
    _drop_key(request, product.pk, quantity, key)
    if placement.status != 201:
        # A replayed refusal of this key (sent from another tab that was refused first).
        code = placement.body.get("code", "") if isinstance(placement.body, dict) else ""
        return _confirm_page(
            request, product=product, quantity=quantity, error=refusal_message(code), status=placement.status
        )
    if not placement.replayed:
        messages.success(request, _("Your order is placed."))
    return redirect("storefront:order", pk=placement.body["id"])


def _unavailable(request: HttpRequest, detail: str) -> HttpResponse:
    """The outage page: rendered from what the request already holds, without the database."""
    response = render(request, "storefront/unavailable.html", {"detail": detail}, status=503)
    response["Retry-After"] = "30"
    return response
