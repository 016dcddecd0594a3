"""The roster import screen of the employee admin: upload a CSV, preview what would change
(nothing written), confirm (re-checked, all rows or none)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from shop.admin_kit.tools import acting_user
from shop.identity.roster import RosterImportRefused, roster_import_confirm, roster_import_stage

if TYPE_CHECKING:
    # Only ever mixed into UserAdmin (employees.py), so typed as the admin it extends.
    _Base = admin.ModelAdmin[Any]
else:
    _Base = object


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        help_text="A CSV file with the columns email,name,employee_id,department (a header row is optional)."
    )
    deactivate_leavers = forms.BooleanField(
        required=False,
        label="Deactivate leavers",
        help_text="Deactivate every active employee who is not in the file (the preview lists them first).",
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_ROSTER_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB; split it into several files.")
        self.filename = upload.name or "roster.csv"
        content: bytes = upload.read()
        return content


MAX_ROSTER_BYTES = 5 * 1024 * 1024
ROSTER_PREVIEW_ROWS = 200


class RosterImportMixin(_Base):
    """UserAdmin's roster import; its URL is in UserAdmin.get_urls."""

    def roster_import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload -> preview (nothing written) -> confirm (re-checked, all rows or none)."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        here = reverse("admin:shop_user_roster_import")
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import the employee roster from a CSV file",
        }
        if request.method == "POST" and "confirm" in request.POST:
            try:
                result = roster_import_confirm(
                    token=request.POST.get("token", ""),
                    confirmed_by=acting_user(request),
                    create_departments=bool(request.POST.get("create_departments")),
                )
            except RosterImportRefused as exc:
                self.message_user(request, exc.detail, messages.ERROR)
                return HttpResponseRedirect(here)
            # One insert per kind, not per person: a company roster can name thousands.
            hr_id = acting_user(request).pk
            for users, flag, message in (
                (result.registered, ADDITION, f"Registered from the roster file {result.filename}"),
                (result.updated, CHANGE, f"Updated from the roster file {result.filename}"),
                (result.deactivated, CHANGE, f"Deactivated: not in the roster file {result.filename}"),
            ):
                if users:
                    LogEntry.objects.log_actions(hr_id, users, flag, message)
            created = ""
            if result.departments_created:
                created = f" Departments created: {', '.join(result.departments_created)}."
            self.message_user(
                request,
                f"Roster {result.filename}: {len(result.registered)} registered, {len(result.updated)} "
                f"updated, {len(result.deactivated)} deactivated.{created}",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:shop_user_changelist"))
        form = RosterUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            staged = roster_import_stage(
                content=form.cleaned_data["file"],
                filename=form.filename,
                staged_by=acting_user(request),
                deactivate_leavers=form.cleaned_data["deactivate_leavers"],
            )
            context.update(
                staged=staged,
                plan=staged.plan,
                new_rows=staged.plan.new[:ROSTER_PREVIEW_ROWS],
                updates=staged.plan.updates[:ROSTER_PREVIEW_ROWS],
                leavers=staged.plan.leavers,
                errors=staged.plan.errors[:ROSTER_PREVIEW_ROWS],
                more_errors=max(0, len(staged.plan.errors) - ROSTER_PREVIEW_ROWS),
                title="Check the roster before applying it",
            )
            return TemplateResponse(request, "admin/shop/user/roster_import_preview.html", context)
        context["form"] = form
        return TemplateResponse(request, "admin/shop/user/roster_import.html", context)
