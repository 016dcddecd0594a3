"""Admin for employees: register, grant and adjust points, deactivate; balances read-only.

It spans the shop, points and orders apps, so it lives in the back office app above them; the
model stays shop's User, so its URLs and templates keep their names (admin:shop_user_...).

Points change only through the points services; this module validates forms, calls them and
records each change in Django's admin log. Fields that confer access (staff, superuser,
groups, permissions, password) are for superusers only, so HR cannot widen its own role.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm

from orders.selectors import order_list
from points.forms import AdjustForm, BulkGrantForm, DepartmentGrantForm, GrantForm, OneTimeSubmissionForm
from points.models import GrantBatch, GrantRequest, PointsAccount, PointsTransaction
from points.selectors import grant_recipients_split, ledger_last_entry_at, ledger_list
from points.services import (
    DuplicateSubmission,
    approval_threshold,
    grant_recipients_all,
    is_grant_recipient,
    points_adjust_or_request,
    points_grant_bulk_or_request,
    points_grant_or_request,
)
from shop.admin_kit.repeats import RepeatNotConfirmed
from shop.admin_kit.tools import acting_user, admin_url, counted, form_page, points_figure
from shop.http.errors import ApplicationError, NegativeBalance
from shop.identity.departments import department_choices
from shop.identity.roster import RosterImportRefused, roster_import_confirm, roster_import_stage
from shop.identity.selectors import department_members
from shop.identity.services import employee_register, employee_validate, user_reactivate, users_deactivate
from shop.models import IdentitySync, User, normalize_email

SECTION_ROWS = 50
OWN_ACCOUNT_MESSAGE = (
    "This is your own account: nobody grants or adjusts their own points, so another HR user must do it."
)


def approval_note(*, bulk: bool = False) -> str:
    what = "A total" if bulk else "An amount"
    return f"{what} above {approval_threshold()} points waits for another HR user's approval before anything moves."


class HasBalanceFilter(admin.SimpleListFilter):
    title = "balance"
    parameter_name = "has_balance"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Has points"), ("no", "No points")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        if self.value() == "yes":
            return queryset.filter(points_account__balance__gt=0)
        if self.value() == "no":
            return queryset.filter(points_account__balance=0)
        return queryset


class RoleFilter(admin.SimpleListFilter):
    """Who an account is. The list opens on the employees (the roster): HR-only and operations
    accounts hold no points and would otherwise sit among them with a balance of 0."""

    title = "role"
    parameter_name = "role"
    DEFAULT = "employees"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("employees", "Employees (on the roster)"),
            ("hr", "HR users"),
            ("back_office", "Back-office accounts only"),
            ("all", "All accounts"),
        ]

    def value(self) -> str:
        return str(super().value() or self.DEFAULT)

    def queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        value = self.value()
        if value == "employees":
            return queryset.filter(is_employee=True)
        if value == "hr":
            return queryset.filter(is_staff=True, is_superuser=False)
        if value == "back_office":
            return queryset.filter(is_employee=False)
        return queryset

    def choices(self, changelist: Any) -> Any:
        # No generic "All" entry: no parameter means the employees, and "All accounts" is explicit.
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


def user_role(user: User) -> str:
    if user.is_superuser:
        return "Operations" if not user.is_employee else "Administrator, employee"
    if user.is_staff:
        return "HR, employee" if user.is_employee else "HR"
    return "Employee" if user.is_employee else "Back office only"


class EmployeeAddForm(forms.ModelForm):
    """Register an employee before their first sign-in; the checks are the service's own."""

    class Meta:
        model = User
        fields = ("email", "name", "employee_id", "department")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].required = True
        self.fields["employee_id"].required = True

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])

    def _post_clean(self) -> None:
        # The model's own checks are replaced by employee_validate, which employee_register
        # runs too, so the form and the command refuse the same things with the same words.
        if self.errors:
            return
        data = self.cleaned_data
        problems = employee_validate(
            email=data["email"],
            name=data.get("name") or "",
            employee_id=data.get("employee_id") or "",
            department=data.get("department") or "",
        )
        for field_name, messages_ in problems.items():
            for message in messages_:
                self.add_error(field_name, message)


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


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    # The theme's forms for what Django's user admin shows (the change form, the superuser's
    # password page); registering stays EmployeeAddForm, whose checks are the service's own.
    form = UserChangeForm
    change_password_form = AdminPasswordChangeForm
    add_form = EmployeeAddForm
    add_form_template = "admin/shop/user/add_form.html"
    change_form_template = "admin/shop/user/change_form.html"
    change_list_template = "admin/shop/user/change_list.html"
    ordering = ("email",)
    list_display = (
        "email",
        "name",
        "employee_id",
        "department",
        "role",
        "balance",
        "earned_redeemed",
        "last_activity",
        "is_active",
    )
    list_select_related = ("points_account",)
    list_filter = (RoleFilter, "is_active", HasBalanceFilter, "department", "location")
    raw_id_fields = ("manager",)
    search_fields = ("email", "name", "employee_id")
    list_per_page = 50
    actions = ("grant_points_selected", "deactivate_selected")
    readonly_fields = (
        "cognito_sub",
        "date_joined",
        "last_login",
        "points_summary",
        "ledger_section",
        "orders_section",
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "employee_id", "department")}),
    )

    # --- who may change what ---------------------------------------------------------

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "department":
            # Picked from HR's departments (the Departments page), never typed: a typo would
            # split a department. Closed ones stay listed so an employee's current one shows.
            return forms.ChoiceField(
                choices=[("", "(none)"), *department_choices()],
                required=False,
                label="Department",
                help_text="Departments are added and renamed on the Departments page.",
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.add_fieldsets
        fieldsets: list[Any] = [
            (
                None,
                {
                    "fields": (
                        "email",
                        "name",
                        "employee_id",
                        "department",
                        "manager",
                        "location",
                        "is_active",
                    )
                },
            ),
            ("Points", {"fields": ("points_summary", "ledger_section")}),
            ("Orders", {"fields": ("orders_section",)}),
            ("Sign-in", {"fields": ("cognito_sub", "date_joined", "last_login")}),
        ]
        if request.user.is_superuser:
            fieldsets.append(
                (
                    "Admin access (superusers only)",
                    {"fields": ("password", "is_staff", "is_superuser", "groups", "user_permissions")},
                )
            )
        return fieldsets

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Staff accounts (HR and superusers) are managed by superusers: otherwise HR could
        # edit, deactivate or take over an account with more rights than its own.
        if obj is not None and obj.is_staff and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def has_grant_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("points.grant_points")

    # --- list columns -----------------------------------------------------------------

    @admin.display(description="Role")
    def role(self, obj: User) -> str:
        return user_role(obj)

    @admin.display(description="Balance", ordering="points_account__balance")
    def balance(self, obj: User) -> str:
        return points_figure(obj.points_account.balance)

    @admin.display(description="Earned / redeemed", ordering="points_account__total_earned")
    def earned_redeemed(self, obj: User) -> str:
        # One column for both, so the list keeps its department and role columns at 1366 px.
        a = obj.points_account
        return f"{points_figure(a.total_earned)} / {points_figure(a.total_redeemed)}"

    @admin.display(description="Earned", ordering="points_account__total_earned")
    def total_earned(self, obj: User) -> str:
        return points_figure(obj.points_account.total_earned)

    @admin.display(description="Redeemed", ordering="points_account__total_redeemed")
    def total_redeemed(self, obj: User) -> str:
        return points_figure(obj.points_account.total_redeemed)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        # The latest ledger entry, not the account's updated_at: an account is saved when it is
        # created (and by housekeeping), which is no points activity. One indexed subquery
        # (ledger_account_created_idx) per page, not a query per row.
        latest = ledger_last_entry_at(user_ref=OuterRef("pk"))
        return super().get_queryset(request).annotate(last_entry_at=Subquery(latest))

    @admin.display(description="Last activity", ordering="last_entry_at")
    def last_activity(self, obj: User) -> Any:
        # None shows as the admin's empty value ("-"): no ledger entry, no activity.
        return getattr(obj, "last_entry_at", None)

    # --- detail sections (read-only) -----------------------------------------------------

    @admin.display(description="Balance")
    def points_summary(self, obj: User) -> str:
        a = obj.points_account
        return format_html(
            "<strong>{}</strong> points (earned {}, redeemed {}, adjusted {})",
            points_figure(a.balance),
            points_figure(a.total_earned),
            points_figure(a.total_redeemed),
            points_figure(a.total_adjusted),
        )

    @admin.display(description="Ledger")
    def ledger_section(self, obj: User) -> str:
        entries = list(ledger_list(user=obj).select_related("created_by")[:SECTION_ROWS])
        if not entries:
            return "No ledger entries yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    e.created_at.strftime("%Y-%m-%d %H:%M"),
                    e.get_type_display(),
                    points_figure(e.amount, signed=True),
                    points_figure(e.balance_after),
                    e.description,
                    e.created_by or "",
                )
                for e in entries
            ),
        )
        more = reverse("admin:points_pointstransaction_changelist") + f"?employee={obj.email}"
        return format_html(
            '<table class="hr-section"><thead><tr><th>When</th><th>Type</th><th>Points</th>'
            "<th>Balance after</th><th>Description</th><th>By</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}">All ledger entries of this employee</a></p>',
            rows,
            more,
        )

    @admin.display(description="Orders")
    def orders_section(self, obj: User) -> str:
        orders = list(order_list(user=obj)[:SECTION_ROWS])
        if not orders:
            return "No orders yet."
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    admin_url(o),
                    o.created_at.strftime("%Y-%m-%d %H:%M"),
                    o.product.name,
                    o.quantity,
                    o.points_used,
                    o.get_status_display(),
                )
                for o in orders
            ),
        )
        more = reverse("admin:orders_order_changelist") + f"?employee={obj.email}"
        return format_html(
            '<table class="hr-section"><thead><tr><th>When</th><th>Product</th><th>Qty</th>'
            "<th>Points</th><th>Status</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}">All orders of this employee</a></p>',
            rows,
            more,
        )

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> Any:
        # Bulk grants (everyone, a selection, a CSV file) are logged once, on their batch; the
        # employee's history lists the ones that reached them too.
        user = self.get_object(request, unquote(object_id))
        entries = []
        if user is not None:
            entries = list(
                ledger_list(user=user)
                .filter(batch__isnull=False)
                .select_related("batch", "created_by")[:SECTION_ROWS]
            )
            for entry in entries:
                entry.points = points_figure(entry.amount, signed=True)  # type: ignore[attr-defined]
        return super().history_view(request, object_id, {**(extra_context or {}), "bulk_entries": entries})

    # --- registering an employee: through employee_register (points account, invitation) --

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        if change:
            return super().save_form(request, form, change)
        data = form.cleaned_data
        return employee_register(
            email=data["email"],
            name=data["name"],
            employee_id=data["employee_id"],
            department=data.get("department") or "",
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            return  # save_form already registered the employee (and its points account)
        toggled = "is_active" in form.changed_data
        if toggled:
            # Saved with the old value; the service makes the change and syncs Cognito.
            obj.is_active = not obj.is_active
        super().save_model(request, obj, form, change)
        if toggled and form.cleaned_data["is_active"]:
            user_reactivate(user=obj)
        elif toggled:
            users_deactivate(users=[obj])

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)

    # --- grants and adjustments -----------------------------------------------------

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("grant-all/", view(self.grant_all_view), name="shop_user_grant_all"),
            path("grant-department/", view(self.grant_department_view), name="shop_user_grant_department"),
            path("import-roster/", view(self.roster_import_view), name="shop_user_roster_import"),
            path("<path:object_id>/grant/", view(self.grant_view), name="shop_user_grant"),
            path("<path:object_id>/adjust/", view(self.adjust_view), name="shop_user_adjust"),
            *super().get_urls(),
        ]

    def _employee(self, request: HttpRequest, object_id: str) -> User:
        if not self.has_grant_permission(request):
            raise PermissionDenied
        user = self.get_object(request, unquote(object_id))
        if user is None:
            raise Http404("No such employee.")
        return user

    def _pending_message(self, request: HttpRequest, pending: GrantRequest) -> HttpResponse:
        self.log_addition(request, pending, f"Requested approval: {pending}")
        self.message_user(
            request,
            f"{pending.total_points} points is above the approval threshold of {approval_threshold()}: "
            "the request waits for another HR user's approval. Nothing has moved yet.",
            messages.WARNING,
        )
        return HttpResponseRedirect(admin_url(pending))

    def grant_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        user = self._employee(request, object_id)
        form = GrantForm(request.POST or None)
        return self._one_employee_points_page(
            request,
            user,
            form,
            apply=lambda: points_grant_or_request(
                user=user,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                requested_by=acting_user(request),
                submission_key=form.cleaned_data["submission"],
                confirm_repeat_of=form.confirmed_repeat(),
            ),
            done=lambda: (
                f"Granted {form.cleaned_data['amount']} points: {form.cleaned_data['reason']}",
                f"Granted {form.cleaned_data['amount']} points to {user.email}.",
            ),
            title=f"Grant points to {user.get_full_name()}",
            intro=f"Current balance: {points_figure(user.points_account.balance)} points. {approval_note()}",
            submit="Grant points",
        )

    def adjust_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        user = self._employee(request, object_id)
        form = AdjustForm(request.POST or None)
        return self._one_employee_points_page(
            request,
            user,
            form,
            apply=lambda: points_adjust_or_request(
                user=user,
                amount=form.signed_amount(),
                reason=form.cleaned_data["reason"],
                requested_by=acting_user(request),
                submission_key=form.cleaned_data["submission"],
                confirm_repeat_of=form.confirmed_repeat(),
            ),
            done=lambda: (
                f"Adjusted points by {form.signed_amount():+d}: {form.cleaned_data['reason']}",
                f"Adjusted {user.email} by {form.signed_amount():+d} points.",
            ),
            negative_balance=lambda: (
                f"Refused: {user.email} has {PointsAccount.objects.get(user=user).balance} points, so "
                f"deducting {-form.signed_amount()} would make the balance negative. Nothing was changed."
            ),
            title=f"Adjust the points of {user.get_full_name()}",
            intro=f"Current balance: {points_figure(user.points_account.balance)} points. A deduction can never "
            f"take the balance below zero. {approval_note()}",
            submit="Adjust points",
        )

    def _one_employee_points_page(
        self,
        request: HttpRequest,
        user: User,
        form: OneTimeSubmissionForm,
        *,
        apply: Callable[[], PointsTransaction | GrantRequest],
        done: Callable[[], tuple[str, str]],
        negative_balance: Callable[[], str] | None = None,
        title: str,
        intro: str,
        submit: str,
    ) -> HttpResponse:
        """The grant and adjust pages of one employee: never one's own account, each form
        applied once (its one-time key), queued for approval above the threshold, and every
        refusal said on the page with nothing changed. ``done`` gives the history entry and the
        message once ``apply`` has written; ``negative_balance`` words a refused deduction."""
        if user.pk == request.user.pk:
            # The employee's page says so in its own note; a message too would say it twice.
            return HttpResponseRedirect(admin_url(user))
        if request.method == "POST" and form.is_valid():
            try:
                result = apply()
            except DuplicateSubmission as exc:
                self.message_user(request, exc.detail, messages.ERROR)
                return HttpResponseRedirect(admin_url(user))
            except RepeatNotConfirmed as exc:
                form.ask_repeat(exc)
            except NegativeBalance as exc:
                form.add_error(None, negative_balance() if negative_balance else exc.detail)
            except ApplicationError as exc:
                form.add_error(None, exc.detail)
            else:
                if isinstance(result, GrantRequest):
                    return self._pending_message(request, result)
                history, message = done()
                self.log_change(request, user, history)
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(admin_url(user))
        return form_page(request, self, title=title, intro=intro, form=form, submit=submit, obj=user)

    def _bulk_grant(
        self,
        request: HttpRequest,
        form: BulkGrantForm,
        *,
        users: list[User],
        source: str,
        logged: str,
        announced: str,
        done: str,
        duplicate: str,
        department: str = "",
        **words: str,
    ) -> HttpResponse | None:
        """What the three bulk grant pages (everyone, a selection, a department) share: the
        form's amount to each of `users` in one batch, or one request for approval above the
        threshold, and a second submit of the same page refused.

        `logged` (the admin log) and `announced` (HR's message) are formatted with amount,
        reason, rows, total and `words`; HR is then sent to `done`, or to `duplicate` after a
        refused second submit. None means the page is shown again: the form was not sent or is
        invalid, nobody can receive the grant, or the service refused it (the reason is on the form).
        """
        if not (form.is_bound and form.is_valid() and users):
            return None
        amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]
        try:
            result = points_grant_bulk_or_request(
                grants=[(u, amount, reason) for u in users],
                source=source,
                requested_by=acting_user(request),
                submission_key=form.cleaned_data["submission"],
                confirm_repeat_of=form.confirmed_repeat(),
                department=department,
            )
        except DuplicateSubmission as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return HttpResponseRedirect(duplicate)
        except RepeatNotConfirmed as exc:
            form.ask_repeat(exc)
            return None
        except ApplicationError as exc:
            form.add_error(None, exc.detail)
            return None
        if isinstance(result, GrantRequest):
            return self._pending_message(request, result)
        figures = {
            "amount": f"{amount:,}",
            "reason": reason,
            "rows": result.rows,
            "employees": counted(result.rows, "employee"),
            "active_employees": counted(result.rows, "active employee"),
            "total": f"{result.total_points:,}",
        }
        self.log_addition(request, result, logged.format(**figures, department=department, **words))
        self.message_user(
            request, announced.format(**figures, department=department, **words), messages.SUCCESS
        )
        return HttpResponseRedirect(done)

    def grant_all_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_grant_permission(request):
            raise PermissionDenied
        acting = acting_user(request)
        users = grant_recipients_all(acting=acting)
        count = len(users)
        form = BulkGrantForm(request.POST or None)
        response = self._bulk_grant(
            request,
            form,
            users=users,
            source=GrantBatch.Source.ALL_ACTIVE,
            logged="Granted {amount} points to all {active_employees}: {reason}",
            announced="Granted {amount} points to {active_employees} ({total} points).",
            done=reverse("admin:shop_user_changelist"),
            duplicate=reverse("admin:points_grantbatch_changelist"),
        )
        if response is not None:
            return response
        # Active accounts the grant does not reach (deactivated ones are not listed: they never are).
        others = User.objects.filter(is_active=True).filter(Q(is_employee=False) | Q(pk=acting.pk))
        left_out = [f"{u.email}: {why}" for u, why in grant_recipients_split(users=others, acting=acting)[1]]
        intro = f"Every one of the {counted(count, 'active employee')} on the roster gets the same amount, in one step."
        if not users:
            intro = "No active employee is on the roster: there is nobody to grant to."
        return form_page(
            request,
            self,
            title="Grant points to all active employees",
            intro=f"{intro} {approval_note(bulk=True)}",
            form=form,
            submit=f"Grant to {counted(count, 'employee')}",
            left_out=left_out,
        )

    def grant_department_view(self, request: HttpRequest) -> HttpResponse:
        """One amount to everyone in a department: the bulk grant, its left-out list and four eyes."""
        if not self.has_grant_permission(request):
            raise PermissionDenied
        acting = acting_user(request)
        form = DepartmentGrantForm(
            request.POST or None, initial={"department": request.GET.get("department")}
        )
        department = form.data.get("department") or form.initial.get("department") or ""
        users, left = grant_recipients_split(users=department_members(department=department), acting=acting)
        left_out = [f"{u.email}: {why}" for u, why in left]
        response = None
        unseen = form.is_bound and department != form.data.get("shown_for", "")
        if unseen:
            # The department was picked in the list on this page, so HR has not seen whom it
            # reaches: show the count and who is left out first; the next press grants.
            data = request.POST.copy()
            data["shown_for"] = department
            form = DepartmentGrantForm(data)
        else:
            response = self._bulk_grant(
                request,
                form,
                users=users,
                source=GrantBatch.Source.DEPARTMENT,
                logged="Granted {amount} points to {employees} of {department}: {reason}",
                announced="Granted {amount} points to {employees} of {department} ({total} points).",
                done=reverse("admin:shop_user_changelist") + f"?department={quote(department)}",
                duplicate=reverse("admin:points_grantbatch_changelist"),
                department=department,
            )
        if response is not None:
            return response
        if form.is_bound and form.is_valid() and not users:
            form.add_error("department", "Nobody in this department can receive points.")
        intro = "Every active employee of the chosen department gets the same amount, in one step."
        if department:
            verb = "gets" if len(users) == 1 else "get"
            intro = f"{counted(len(users), 'active employee')} of {department} {verb} the same amount, in one step."
        if unseen and department:
            intro += " Check whom it reaches below, then press the button to grant."
        return form_page(
            request,
            self,
            title="Grant points to a department",
            intro=f"{intro} {approval_note(bulk=True)}",
            form=form,
            submit=f"Grant to {counted(len(users), 'employee')}" if department else "Show whom it reaches",
            left_out=left_out,
        )

    @admin.action(description="Grant points to the selected employees", permissions=["grant"])
    def grant_points_selected(self, request: HttpRequest, queryset: QuerySet[User]) -> Any:
        acting = acting_user(request)
        users, left = grant_recipients_split(users=queryset.order_by("pk"), acting=acting)
        left_out = [f"{u.email}: {why}" for u, why in left]
        form = BulkGrantForm(request.POST if "apply" in request.POST else None)
        left_out_note = ""
        if left_out:
            left_out_note = f" Left out: {'; '.join(left_out[:5])}" + ("; ..." if len(left_out) > 5 else ".")
        # Both ways back lead to the list the action was run from (where an action returning
        # None leads too), with its filters and page.
        response = self._bulk_grant(
            request,
            form,
            users=users,
            source=GrantBatch.Source.SELECTION,
            logged="Granted {amount} points to {employees} selected: {reason}",
            announced="Granted {amount} points to {employees}.{left_out}",
            done=request.get_full_path(),
            duplicate=request.get_full_path(),
            left_out=left_out_note,
        )
        if response is not None:
            return response
        if not users:
            self.message_user(
                request,
                "Nobody in the selection can receive points: " + "; ".join(left_out[:10]),
                messages.ERROR,
            )
            return None
        hidden = [("action", "grant_points_selected")] + [
            (helpers.ACTION_CHECKBOX_NAME, str(u.pk)) for u in users
        ]
        intro = f"Each selected active employee gets the amount below. {approval_note(bulk=True)}"
        return form_page(
            request,
            self,
            title="Grant points to the selected employees",
            intro=intro,
            form=form,
            submit=f"Grant to {counted(len(users), 'employee')}",
            objects=users,
            hidden=hidden,
            left_out=left_out,
        )

    @admin.action(description="Deactivate the selected employees", permissions=["change"])
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        if not request.user.is_superuser:
            queryset = queryset.filter(is_staff=False)
        changed = users_deactivate(users=queryset.order_by("pk"))
        for user in changed:
            self.log_change(request, user, "Deactivated")
        self.message_user(
            request,
            f"Deactivated {counted(len(changed), 'employee')}. They keep their points and history "
            "but can no longer sign in or order.",
            messages.SUCCESS,
        )

    # --- the roster import: upload, preview, confirm ---------------------------------------

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

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        extra_context = {
            **(extra_context or {}),
            "can_grant": self.has_grant_permission(request),
            "can_import_roster": self.has_add_permission(request) and self.has_change_permission(request),
            "failed_syncs": IdentitySync.objects.filter(status=IdentitySync.Status.FAILED).count(),
        }
        return super().changelist_view(request, extra_context)

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        context["can_grant"] = self.has_grant_permission(request)
        original = context.get("original")
        if original is not None:
            # The buttons are replaced by the reason they are missing, rather than refusing later.
            context["own_account"] = original.pk == request.user.pk
            context["own_account_message"] = OWN_ACCOUNT_MESSAGE
            context["can_receive"] = is_grant_recipient(original)
        return super().render_change_form(request, context, *args, **kwargs)
