"""Forms HR fills in about orders (used by the admin)."""

from __future__ import annotations

from django import forms


class RefundForm(forms.Form):
    reason = forms.CharField(
        max_length=255, help_text="Why the order is refunded; kept with the order and in the ledger."
    )
