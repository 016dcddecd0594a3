"""Admin for the ledger: visible, filterable and exportable; never added to, changed or deleted
from here, by anyone (superusers included). Grants from a CSV file are previewed, then applied."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin

from points.forms import DecisionForm, GrantCsvUploadForm
from points.models import GrantBatch, GrantRequest, PointsTransaction
from points.services.approvals import grant_request_approve, grant_request_reject
from points.services.checks import approval_threshold, needs_approval
from points.services.grant_files import (
    StagedGrantImport,
    grant_import_confirm,
    grant_import_stage,
    grant_import_staged,
)
from shop.admin_kit.tools import (
    CsvExportMixin,
    DateRangeFilter,
    EmployeeFilter,
    acting_user,
    admin_url,
    counted,
    form_page,
    points_figure,
)
from shop.http.errors import ApplicationError

PREVIEW_ROWS = 50
PREVIEW_ERRORS = 200


class LedgerEmployeeFilter(EmployeeFilter):
    user_path = "account__user"


class ReadOnlyAdmin(ModelAdmin):
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
        "points",
        "balance",
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

    @admin.display(description="Amount", ordering="amount")
    def points(self, obj: PointsTransaction) -> str:
        return points_figure(obj.amount, signed=True)

    @admin.display(description="Balance after", ordering="balance_after")
    def balance(self, obj: PointsTransaction) -> str:
        return points_figure(obj.balance_after)

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
            allow_duplicate = bool(request.POST.get("allow_duplicate"))
            try:
                batch = grant_import_confirm(
                    token=request.POST.get("token", ""),
                    confirmed_by=acting_user(request),
                    allow_duplicate=allow_duplicate,
                )
            except ApplicationError as exc:
                # Back to the preview with the reason when the upload is still waiting (a second
                # import not confirmed, say), rather than to an empty upload form.
                staged = grant_import_staged(
                    token=request.POST.get("token", ""), staged_by=acting_user(request)
                )
                if staged is None:
                    self.message_user(request, exc.detail, messages.ERROR)
                    return HttpResponseRedirect(reverse("admin:points_pointstransaction_import"))
                if staged.previous is not None and not allow_duplicate:
                    # Refused as a second import of the file: the preview's own note says the
                    # file was imported before (with its figures), so the refusal is said there,
                    # once, rather than in a second red note repeating it.
                    return self._preview(request, context, staged, repeat_refused=True)
                return self._preview(request, context, staged, refused=exc.detail)
            if isinstance(batch, GrantRequest):
                self.log_addition(request, batch, f"Requested approval: {batch}")
                self.message_user(
                    request,
                    f"{batch.rows} rows, {batch.total_points} points, from {batch.filename} are above the "
                    f"approval threshold of {approval_threshold()}: the import waits for another HR user's "
                    "approval. Nothing has moved yet.",
                    messages.WARNING,
                )
                return HttpResponseRedirect(admin_url(batch))
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
            return self._preview(request, context, staged)
        context["form"] = form
        return TemplateResponse(request, "admin/points/pointstransaction/import.html", context)

    def _preview(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        staged: StagedGrantImport,
        refused: str = "",
        *,
        repeat_refused: bool = False,
    ) -> TemplateResponse:
        plan = staged.plan
        context.update(
            staged=staged,
            plan=plan,
            refused=refused,
            repeat_refused=repeat_refused,
            preview_rows=plan.rows[:PREVIEW_ROWS],
            errors=plan.errors[:PREVIEW_ERRORS],
            more_errors=max(0, len(plan.errors) - PREVIEW_ERRORS),
            employees=len({row.email for row in plan.rows}),
            left_out=plan.left_out[:PREVIEW_ERRORS],
            needs_approval=needs_approval(plan.total_points),
            threshold=approval_threshold(),
            title="Check the import before applying it",
        )
        return TemplateResponse(request, "admin/points/pointstransaction/import_preview.html", context)


@admin.register(GrantBatch)
class GrantBatchAdmin(ReadOnlyAdmin):
    """Every bulk grant: what it was for (the department or file named), its reason, who made
    it and, above the threshold, who approved it."""

    list_display = (
        "created_at",
        "what",
        "reason",
        "points",
        "created_by",
        "approved_by",
        "entries_link",
    )
    list_filter = ("source",)
    list_select_related = ("created_by", "grant_request__decided_by")
    search_fields = ("department", "filename")

    def get_queryset(self, request: HttpRequest) -> QuerySet[GrantBatch]:
        # One subquery per page for the reason of each batch (its first entry's), not a query per row.
        first_reason = (
            PointsTransaction.objects.filter(batch=OuterRef("pk"))
            .order_by("created_at")
            .values("description")[:1]
        )
        return super().get_queryset(request).annotate(first_reason=Subquery(first_reason))

    @admin.display(description="Granted to", ordering="source")
    def what(self, obj: GrantBatch) -> str:
        if obj.source == GrantBatch.Source.DEPARTMENT and obj.department:
            return f"Department {obj.department}"
        if obj.filename:
            return f"{obj.get_source_display()}: {obj.filename}"
        return obj.get_source_display()

    @admin.display(description="Reason")
    def reason(self, obj: GrantBatch) -> str:
        if obj.source == GrantBatch.Source.CSV:
            return "Per row (see the entries)"
        return str(getattr(obj, "first_reason", "") or "")

    @admin.display(description="Approved by")
    def approved_by(self, obj: GrantBatch) -> str:
        approval = getattr(obj, "grant_request", None)
        if approval is None or approval.decided_by is None:
            return "-"
        return approval.decided_by.email

    @admin.display(description="Total points", ordering="total_points")
    def points(self, obj: GrantBatch) -> str:
        return f"{points_figure(obj.total_points)} ({counted(obj.rows, 'row')})"

    @admin.display(description="Ledger entries")
    def entries_link(self, obj: GrantBatch) -> str:
        url = reverse("admin:points_pointstransaction_changelist") + f"?batch__exact={obj.pk}"
        return format_html('<a href="{}">View</a>', url)


class RequestedDateFilter(DateRangeFilter):
    field_name = "requested_at"


@admin.register(GrantRequest)
class GrantRequestAdmin(ReadOnlyAdmin):
    """Four eyes: requests above the threshold, approved or rejected (with a note) by another HR user."""

    list_filter = ("status", "kind", "source", RequestedDateFilter)
    change_form_template = "admin/points/grantrequest/change_form.html"
    # Six columns that fit a 1366 px screen: what it is (kind, and whom for), how many points,
    # why, who asked, and its decision (who and when) in one column.
    list_display = ("requested_at", "what", "points", "reason", "requested_by", "decision")
    list_select_related = ("requested_by", "decided_by")
    search_fields = ("reason", "requested_by__email", "filename", "note")
    list_per_page = 100
    fields = (
        "kind",
        "source",
        "reason",
        "rows",
        "total_points",
        "filename",
        "requested_by",
        "requested_at",
        "status",
        "decided_by",
        "decided_at",
        "note",
        "batch_link",
        "recipients",
    )
    readonly_fields = fields

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("points.grant_points")

    @admin.display(description="Request", ordering="kind")
    def what(self, obj: GrantRequest) -> str:
        if obj.kind == GrantRequest.Kind.GRANT:
            return "Grant"
        if obj.kind == GrantRequest.Kind.ADJUST:
            return "Adjustment"
        if obj.department:
            return f"Bulk: department {obj.department}"
        return f"Bulk: {obj.get_source_display().lower()}" if obj.source else "Bulk"

    @admin.display(description="Points", ordering="total_points")
    def points(self, obj: GrantRequest) -> str:
        return f"{points_figure(obj.total_points)} ({counted(obj.rows, 'row')})"

    @admin.display(description="Status", ordering="status")
    def decision(self, obj: GrantRequest) -> str:
        if obj.status == GrantRequest.Status.PENDING or obj.decided_at is None:
            return obj.get_status_display()
        who = obj.decided_by.email if obj.decided_by else "someone"
        return f"{obj.get_status_display()} by {who}, {timezone.localtime(obj.decided_at):%Y-%m-%d %H:%M}"

    @admin.display(description="Ledger entries")
    def batch_link(self, obj: GrantRequest) -> str:
        if obj.batch_id is None:
            return "None yet: nothing moves until the request is approved."
        url = reverse("admin:points_pointstransaction_changelist") + f"?batch__exact={obj.batch_id}"
        return format_html('<a href="{}">The entries this approval wrote</a>', url)

    @admin.display(description="Recipients")
    def recipients(self, obj: GrantRequest) -> str:
        items = obj.payload[:PREVIEW_ROWS]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((item["email"], f"{int(item['amount']):+d}", item["reason"]) for item in items),
        )
        more = f"<p>... and {obj.rows - len(items)} more rows.</p>" if obj.rows > len(items) else ""
        return format_html(
            '<table class="hr-section"><thead><tr><th>Employee</th><th>Points</th><th>Reason</th></tr></thead>'
            "<tbody>{}</tbody></table>{}",
            rows,
            format_html(more) if more else "",
        )

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/approve/", view(self.approve_view), name="points_grantrequest_approve"),
            path("<path:object_id>/reject/", view(self.reject_view), name="points_grantrequest_reject"),
            *super().get_urls(),
        ]

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        original = context.get("original")
        context["can_decide"] = self.has_decide_permission(request)
        # The requester sees why there is no Approve button instead of a refusal after clicking.
        context["own_request"] = original is not None and original.requested_by_id == request.user.pk
        return super().render_change_form(request, context, *args, **kwargs)

    def _request(self, request: HttpRequest, object_id: str) -> GrantRequest:
        if not self.has_decide_permission(request):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("No such request.")
        return obj

    def approve_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._decide(request, object_id, approve=True)

    def reject_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._decide(request, object_id, approve=False)

    def _decide(self, request: HttpRequest, object_id: str, *, approve: bool) -> HttpResponse:
        obj = self._request(request, object_id)
        if obj.status != GrantRequest.Status.PENDING:
            self.message_user(
                request, f"This request was already {obj.status}; nothing was changed.", messages.WARNING
            )
            return HttpResponseRedirect(admin_url(obj))
        if approve and obj.requested_by_id == request.user.pk:
            # Four eyes: the request's page says so in its own note; a message too would say it
            # twice. (The service refuses it as well, should the request change hands meanwhile.)
            return HttpResponseRedirect(admin_url(obj))
        form = DecisionForm(request.POST if request.method == "POST" else None, reject=not approve)
        if request.method == "POST" and form.is_valid():
            note = form.cleaned_data["note"]
            try:
                if approve:
                    decided = grant_request_approve(
                        request_id=obj.pk, approved_by=acting_user(request), note=note
                    )
                else:
                    decided = grant_request_reject(
                        request_id=obj.pk, rejected_by=acting_user(request), note=note
                    )
            except ApplicationError as exc:
                self.message_user(request, exc.detail, messages.ERROR)
                return HttpResponseRedirect(admin_url(obj))
            verb = "Approved" if approve else "Rejected"
            self.log_change(request, decided, f"{verb}: {note}" if note else verb)
            done = (
                f"Approved: {points_figure(decided.total_points)} points to {counted(decided.rows, 'employee')} "
                "are applied."
                if approve
                else "Rejected: nothing moved; the note is kept with the request."
            )
            self.message_user(request, done, messages.SUCCESS)
            return HttpResponseRedirect(admin_url(decided))
        return form_page(
            request,
            self,
            title=("Approve" if approve else "Reject") + f" {obj}",
            intro=f"Requested by {obj.requested_by.email}: {counted(obj.rows, 'row')}, "
            f"{points_figure(obj.total_points)} points. "
            + (
                "Approving applies it now."
                if approve
                else "Rejecting moves nothing; say why (the requester sees the note)."
            ),
            form=form,
            submit="Approve and apply" if approve else "Reject",
            obj=obj,
            danger=not approve,
        )
