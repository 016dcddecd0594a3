"""Forms HR fills in to grant, adjust and import points (used by the admin)."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms

from points.services.checks import MAX_GRANT
from shop.admin_kit.repeats import RepeatConfirmForm
from shop.identity.selectors import departments_list

MAX_CSV_BYTES = 5 * 1024 * 1024  # 10,000 rows is about 500 KB; ten times that is a wrong file


class OneTimeSubmissionForm(RepeatConfirmForm):
    """A form that moves points. Each render carries a fresh one-time key, spent in the
    transaction that writes the change (or queues it for approval), so submitting the same page
    twice (a double click, a resend, two tabs) changes the points once. Back re-fetches the page
    (a fresh key) while the browser restores what was typed; that repeat is caught by its content
    and needs HR's confirmation (RepeatConfirmForm)."""

    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A bound form that is shown again (a typo in the amount) keeps the key it was rendered with.
        self.fields["submission"].initial = secrets.token_urlsafe(32)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # A non-field error, so the page shows it (the field itself is hidden).
        if len(str(data.get("submission") or "")) < 32:
            raise forms.ValidationError("This page is out of date: reload it and submit the form again.")
        return data


class GrantForm(OneTimeSubmissionForm):
    """A grant to one employee, submitted once (see OneTimeSubmissionForm)."""

    amount = forms.IntegerField(
        min_value=1, max_value=MAX_GRANT, help_text="Whole points to give this employee."
    )
    reason = forms.CharField(
        max_length=255, help_text="Shown to the employee in their history, e.g. 'Q3 peer award'."
    )


class BulkGrantForm(GrantForm):
    """The same amount to many employees (everyone, a selection, a department)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].help_text = "Whole points to give each employee."


class AdjustForm(OneTimeSubmissionForm):
    """A correction to one employee's points, submitted once: a deduction posted twice would
    otherwise take the points twice."""

    DEDUCT = "deduct"
    ADD = "add"
    direction = forms.ChoiceField(
        choices=[(DEDUCT, "Deduct points"), (ADD, "Add points (correction)")],
        initial=DEDUCT,
        widget=forms.RadioSelect,
    )
    amount = forms.IntegerField(min_value=1, max_value=MAX_GRANT, help_text="Whole points.")
    reason = forms.CharField(max_length=255, help_text="Why: kept in the ledger and shown to the employee.")

    def signed_amount(self) -> int:
        amount = int(self.cleaned_data["amount"])
        return -amount if self.cleaned_data["direction"] == self.DEDUCT else amount


class GrantCsvUploadForm(forms.Form):
    file = forms.FileField(
        help_text="A CSV file with the columns email,amount,reason (a header row is optional)."
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB; split it into several files.")
        self.filename = upload.name or "grants.csv"
        return upload.read()


class DecisionForm(forms.Form):
    """Approve or reject a grant request; a rejection must say why (checked here, so the page
    shows the form again with the error rather than refusing after the click)."""

    note = forms.CharField(
        max_length=255, required=False, help_text="Kept with the request; required when rejecting."
    )

    def __init__(self, *args: Any, reject: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if reject:
            field = self.fields["note"]
            field.required = True
            field.error_messages["required"] = "Say why the request is rejected; the requester sees the note."
            field.help_text = "Required: why the request is rejected. Kept with the request."


class DepartmentGrantForm(BulkGrantForm):
    """A grant to everyone in one department (the choices are the departments on the roster)."""

    field_order = ("department", "amount", "reason")
    department = forms.ChoiceField(choices=())
    # The department whose recipients the page showed: a department picked in the list on the
    # page is shown first (count, left-out list) rather than granted in the same press.
    shown_for = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["shown_for"].initial = self.initial.get("department") or ""
        field = self.fields["department"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Choose a department")] + [(d, d) for d in departments_list()]
        self.order_fields(self.field_order)
