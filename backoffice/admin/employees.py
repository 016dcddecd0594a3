"""Admin for employees: register, grant and adjust points, deactivate; balances read-only.

It spans the shop, points and orders apps, so it lives in the back office app above them; the
model stays shop's User, so its URLs and templates keep their names (admin:shop_user_...).
The grant screens (grants.py) and the roster import (roster.py) are mixed into UserAdmin here.

Points change only through the points services; this module validates forms, calls them and
records each change in Django's admin log. Fields that confer access (staff, superuser,
groups, permissions, password) are for superusers only, so HR cannot widen its own role.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm

from backoffice.admin.grants import EmployeeGrantsMixin
from backoffice.admin.roster import RosterImportMixin
from orders.selectors import order_list
from points.selectors import ledger_last_entry_at, ledger_list
from points.services.checks import is_grant_recipient
from shop.admin_kit.tools import admin_url, counted, points_figure
from shop.identity.departments import department_choices
from shop.identity.services import employee_register, employee_validate, user_reactivate, users_deactivate
from shop.models import IdentitySync, User, normalize_email

SECTION_ROWS = 50
OWN_ACCOUNT_MESSAGE = (
    "This is your own account: nobody grants or adjusts their own points, so another HR user must do it."
)


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


@admin.register(User)
class UserAdmin(EmployeeGrantsMixin, RosterImportMixin, BaseUserAdmin, ModelAdmin):
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

    # --- registering and deactivating: through the shop services (points account, Cognito) --

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

    # --- the screens' URLs: grants (grants.py), the roster import (roster.py) ---------------

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

    # --- what the list and the page show of the grant and roster screens -------------------

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
