"""Admin for the ledger: visible, filterable and exportable; never added to, changed or deleted
from here, by anyone (superusers included). Grants from a CSV file are previewed, then applied."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from points.forms import GrantCsvUploadForm
from points.models import GrantBatch, PointsTransaction
from points.services import GrantImportRefused, grant_import_confirm, grant_import_stage
from shop.admin_tools import CsvExportMixin, DateRangeFilter, EmployeeFilter, acting_user

PREVIEW_ROWS = 50
PREVIEW_ERRORS = 200


class LedgerEmployeeFilter(EmployeeFilter):
    user_path = "account__user"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PointsTransaction)
class LedgerAdmin(CsvExportMixin, ReadOnlyAdmin):
    change_list_template = "admin/points/pointstransaction/change_list.html"
    list_display = (
        "created_at",
        "employee",
        "type",
        "amount",
        "balance_after",
        "order_link",
        "description",
        "created_by",
    )
    list_filter = ("type", DateRangeFilter, LedgerEmployeeFilter)
    search_fields = (
        "account__user__email",
        "account__user__name",
        "account__user__employee_id",
        "description",
    )
    list_select_related = ("account__user", "created_by")
    list_per_page = 100
    show_full_result_count = False  # a second COUNT(*) over the whole ledger on every page is waste
    csv_filename = "ledger"
    csv_columns = (
        ("created_at", lambda e: e.created_at.isoformat()),
        ("email", lambda e: e.account.user.email),
        ("employee_id", lambda e: e.account.user.employee_id),
        ("type", lambda e: e.type),
        ("amount", lambda e: e.amount),
        ("balance_after", lambda e: e.balance_after),
        ("order_id", lambda e: e.order_id),
        ("description", lambda e: e.description),
        ("created_by", lambda e: e.created_by.email if e.created_by else ""),
        ("batch_id", lambda e: e.batch_id),
    )

    @admin.display(description="Employee", ordering="account__user__email")
    def employee(self, obj: PointsTransaction) -> str:
        return obj.account.user.email

    @admin.display(description="Order")
    def order_link(self, obj: PointsTransaction) -> str:
        if obj.order_id is None:
            return ""
        url = reverse("admin:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.order_id)[:8])

    def has_grant_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("points.grant_points")

    def get_urls(self) -> list[Any]:
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="points_pointstransaction_import",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        extra_context = {**(extra_context or {}), "can_grant": self.has_grant_permission(request)}
        return super().changelist_view(request, extra_context)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload -> preview (nothing written) -> confirm (re-validated, all rows or none)."""
        if not self.has_grant_permission(request):
            raise PermissionDenied
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import points grants from a CSV file",
        }
        if request.method == "POST" and "confirm" in request.POST:
            try:
                batch = grant_import_confirm(
                    token=request.POST.get("token", ""),
                    confirmed_by=acting_user(request),
                    allow_duplicate=bool(request.POST.get("allow_duplicate")),
                )
            except GrantImportRefused as exc:
                self.message_user(request, exc.detail, messages.ERROR)
                return HttpResponseRedirect(reverse("admin:points_pointstransaction_import"))
            self.log_addition(
                request,
                batch,
                f"Imported {batch.rows} grants ({batch.total_points} points) from {batch.filename}",
            )
            self.message_user(
                request,
                f"Imported {batch.rows} rows, {batch.total_points} points, from {batch.filename}.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:points_pointstransaction_changelist"))
        form = GrantCsvUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            staged = grant_import_stage(
                content=form.cleaned_data["file"], filename=form.filename, staged_by=acting_user(request)
            )
            plan = staged.plan
            context.update(
                staged=staged,
                plan=plan,
                preview_rows=plan.rows[:PREVIEW_ROWS],
                errors=plan.errors[:PREVIEW_ERRORS],
                more_errors=max(0, len(plan.errors) - PREVIEW_ERRORS),
                employees=len({row.email for row in plan.rows}),
                title="Check the import before applying it",
            )
            return TemplateResponse(request, "admin/points/pointstransaction/import_preview.html", context)
        context["form"] = form
        return TemplateResponse(request, "admin/points/pointstransaction/import.html", context)


@admin.register(GrantBatch)
class GrantBatchAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "source", "filename", "rows", "total_points", "created_by", "entries_link")
    list_filter = ("source",)
    list_select_related = ("created_by",)

    @admin.display(description="Ledger entries")
    def entries_link(self, obj: GrantBatch) -> str:
        url = reverse("admin:points_pointstransaction_changelist") + f"?batch__exact={obj.pk}"
        return format_html('<a href="{}">View</a>', url)
