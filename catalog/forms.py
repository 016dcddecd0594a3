"""Forms HR fills in about the catalog (used by the admin)."""

from __future__ import annotations

from typing import Any

from django import forms

from catalog.images import InvalidImage, image_open, image_read_upload
from catalog.models import Product, StockMovement
from shop.admin_kit.repeats import RepeatConfirmForm


class ProductForm(forms.ModelForm):
    """Product fields plus an image upload; stock is never a form field (see StockChangeForm)."""

    image_upload = forms.FileField(
        required=False,
        label="Image",
        help_text="JPEG, PNG, WebP or GIF up to 10 MB. It is re-encoded (at most 500 KB) and "
        "a thumbnail is made; photo metadata such as location is removed.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )

    class Meta:
        model = Product
        fields = ("name", "description", "category", "points_cost", "is_active")

    def clean_image_upload(self) -> bytes | None:
        upload = self.cleaned_data.get("image_upload")
        if not upload:
            return None
        try:
            data = image_read_upload(upload, size=upload.size)
            image_open(data)
        except InvalidImage as exc:
            raise forms.ValidationError(exc.detail) from exc
        return data


class ProductAddForm(ProductForm):
    initial_stock = forms.IntegerField(
        min_value=0,
        initial=0,
        help_text="Units on hand now. Recorded as a restock by you; later changes use 'Change stock'.",
    )


class StockChangeForm(RepeatConfirmForm):
    """A restock or correction; the same change again within the repeat window needs HR's
    confirmation (shop.admin_kit.repeats), whatever the browser resent or restored."""

    change = forms.IntegerField(
        help_text="Units to add (e.g. 20) or remove (e.g. -3). Stock can never go below zero."
    )
    reason = forms.ChoiceField(
        choices=[
            (StockMovement.Reason.RESTOCK, "Restock (new units arrived)"),
            (StockMovement.Reason.CORRECTION, "Correction (count was wrong, damaged, lost)"),
        ]
    )
    note = forms.CharField(max_length=255, help_text="Why, e.g. 'Delivery 2024-05-02' or 'Two damaged'.")

    def clean_change(self) -> Any:
        change = self.cleaned_data["change"]
        if change == 0:
            raise forms.ValidationError("Enter a number of units other than zero.")
        if abs(change) > 100_000:
            raise forms.ValidationError("That is more than 100,000 units; check the number.")
        return change
