"""The storefront's forms: catalog filters, the redeem confirmation, e-mail preferences."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.services import MAX_QUANTITY

SORTS = [
    ("name", _("Name")),
    ("points_cost", _("Cost: low to high")),
    ("-points_cost", _("Cost: high to low")),
    ("-created_at", _("Newest")),
]


class StorefrontForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Labels are written as they read ("Search"), without Django's trailing colon (a
        # class attribute would not do: Form.__init__ sets its default over it).
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class CatalogFilterForm(StorefrontForm):
    """What the catalog page offers; its cleaned values become the API's product filters."""

    search = forms.CharField(label=_("Search"), required=False, max_length=200)
    category = forms.ChoiceField(label=_("Category"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), choices=SORTS, required=False)
    affordable = forms.BooleanField(label=_("Only what I can afford"), required=False)
    in_stock = forms.BooleanField(label=_("Only in stock"), required=False)

    def __init__(self, *args: Any, categories: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        """``categories``: (slug, name) of each category with active products
        (storefront.listing keeps them per process)."""
        super().__init__(*args, **kwargs)
        self.categories = tuple(categories)
        category: forms.ChoiceField = self.fields["category"]  # type: ignore[assignment]
        category.choices = [("", _("All categories")), *self.categories]

    def filter_params(self) -> dict[str, str]:
        """The product filter's parameters (catalog.filters.ProductFilter), as the API takes them."""
        data = self.cleaned_data
        params = {"ordering": data.get("sort") or "name"}
        if data.get("search"):
            params["search"] = data["search"]
        if data.get("category"):
            params["category"] = data["category"]
        if data.get("affordable"):
            params["affordable"] = "true"
        if data.get("in_stock"):
            params["in_stock"] = "true"
        return params


class QuantityForm(StorefrontForm):
    quantity = forms.TypedChoiceField(label=_("Quantity"), coerce=int, initial=1)

    def __init__(self, *args: Any, stock: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        most = max(1, min(MAX_QUANTITY, stock))
        quantity: forms.TypedChoiceField = self.fields["quantity"]  # type: ignore[assignment]
        quantity.choices = [(n, str(n)) for n in range(1, most + 1)]


class RedeemForm(StorefrontForm):
    """The confirmation: the quantity, the form's idempotency key, and the repeat confirmation."""

    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, widget=forms.HiddenInput)
    key = forms.RegexField(regex=r"^web-[0-9a-f]{32}$", widget=forms.HiddenInput)
    confirm_repeat = forms.BooleanField(
        label=_("Yes, I want to order this product again"),
        required=False,
    )


class PreferencesForm(StorefrontForm):
    optional_emails = forms.BooleanField(
        label=_("E-mail me when I receive points and before my points expire"),
        required=False,
        help_text=_("Order receipts are always sent."),
    )
