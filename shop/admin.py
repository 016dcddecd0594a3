"""Admin for what the shop app owns on its own: HR's departments, the Cognito syncs of the
roster; and Django's groups and django-axes' sign-in records, re-registered on the back
office's theme.

The employee admin (registering, grants, adjustments) spans the points and orders apps, so it
lives in the back office app above them (backoffice/admin/).
"""

from __future__ import annotations

from typing import Any

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.models import Group
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from unfold.admin import ModelAdmin

from shop.admin_kit.tools import counted, form_page
from shop.identity.cognito_sync import identity_sync_run
from shop.identity.departments import (
    DepartmentInvalid,
    department_check_name,
    department_near_duplicates,
    department_rename,
    departments_merge,
)
from shop.models import Department, IdentitySync, User


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = ("name", "manager", "location", "is_active")

    def clean_name(self) -> str:
        try:
            return department_check_name(self.cleaned_data["name"], exclude=self.instance.pk)
        except DepartmentInvalid as exc:
            raise forms.ValidationError(exc.detail) from exc


class MergeForm(forms.Form):
    keep = forms.ChoiceField(
        label="Keep",
        widget=forms.RadioSelect,
        help_text="The others' employees move into it; the others are removed.",
    )

    def __init__(self, *args: Any, departments: list[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["keep"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(str(d.pk), f"{d.name} ({d.members} employees)") for d in departments]  # type: ignore[attr-defined]


@admin.register(Department)
class DepartmentAdmin(ModelAdmin):
    """HR's departments: name, manager, location, active. Renaming renames it on its employees
    (and the history says from what); near-duplicates are merged, never deleted."""

    form = DepartmentForm
    change_list_template = "admin/shop/department/change_list.html"
    list_display = ("name", "manager", "location", "members", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "location")
    raw_id_fields = ("manager",)
    list_select_related = ("manager",)
    actions = ("merge_selected",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Department]:
        members = (
            User.objects.filter(department=OuterRef("name"))
            .order_by()
            .values("department")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(members=Coalesce(Subquery(members), 0))

    @admin.display(description="Employees", ordering="members")
    def members(self, obj: Department) -> int:
        return int(getattr(obj, "members", 0))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # merged or deactivated instead, so no employee points at a missing one

    def save_model(self, request: HttpRequest, obj: Department, form: Any, change: bool) -> None:
        old_name = form.initial.get("name", "") if change else ""
        super().save_model(request, obj, form, change)
        if change and "name" in form.changed_data:
            moved = department_rename(department=obj, old_name=old_name)
            self.message_user(
                request,
                f"Renamed {old_name} to {obj.name}: {moved} employees moved with it.",
                messages.SUCCESS,
            )

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> Any:
        message = super().construct_change_message(request, form, formsets, add)
        if not add and "name" in form.changed_data:
            # The old name stays in the history: the rename itself is the record of it.
            others = [form.fields[f].label or f for f in form.changed_data if f != "name"]
            message = f"Renamed from \u201c{form.initial.get('name')}\u201d to \u201c{form.cleaned_data['name']}\u201d"
            if others:
                message += f"; changed {', '.join(str(o) for o in others)}"
        return message

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        groups = department_near_duplicates()
        extra_context = {**(extra_context or {}), "near_duplicates": groups}
        return super().changelist_view(request, extra_context)

    @admin.action(description="Merge the selected departments", permissions=["change"])
    def merge_selected(self, request: HttpRequest, queryset: QuerySet[Department]) -> HttpResponse | None:
        departments = list(queryset.order_by("name"))
        if len(departments) < 2:
            self.message_user(request, "Select two or more departments to merge.", messages.ERROR)
            return None
        form = MergeForm(request.POST if "apply" in request.POST else None, departments=departments)
        if form.is_bound and form.is_valid():
            keep = next(d for d in departments if str(d.pk) == form.cleaned_data["keep"])
            others = [d for d in departments if d.pk != keep.pk]
            moved = departments_merge(keep=keep, merged=others)
            names = ", ".join(d.name for d in others)
            self.log_change(request, keep, f"Merged {names} into it ({moved} employees moved)")
            self.message_user(
                request, f"Merged {names} into {keep.name}: {moved} employees moved.", messages.SUCCESS
            )
            return None
        hidden = [("action", "merge_selected")] + [
            (helpers.ACTION_CHECKBOX_NAME, str(d.pk)) for d in departments
        ]
        return form_page(
            request,
            self,
            title="Merge departments",
            intro="Choose the department to keep. Every employee of the others moves into it (their "
            "points, orders and grants stay theirs), and the others are removed.",
            form=form,
            submit="Merge",
            hidden=hidden,
        )


@admin.register(IdentitySync)
class IdentitySyncAdmin(ModelAdmin):
    """What was pushed to Cognito for each employee, and what failed; failed ones can be retried.

    Read-only: rows are written by the services that change the roster, and by the retry.
    """

    list_display = ("created_at", "user", "action", "status", "attempts", "last_error", "completed_at")
    list_filter = ("status", "action")
    list_select_related = ("user",)
    search_fields = ("user__email", "user__employee_id")
    actions = ("retry_selected",)
    readonly_fields = list_display

    # Seeing and retrying syncs is part of managing employees: whoever may change employees
    # (the HR role) may do it, without a permission of its own to grant.
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("shop.change_user")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("shop.change_user")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("shop.change_user")

    @admin.action(description="Retry the selected Cognito syncs", permissions=["retry"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[IdentitySync]) -> None:
        # Runs outside any transaction (admin actions are not atomic), one Cognito call at a time.
        ids = list(
            queryset.exclude(status=IdentitySync.Status.DONE).order_by("id").values_list("pk", flat=True)
        )
        results = [identity_sync_run(sync_id=sync_id) for sync_id in ids]
        failed = [r for r in results if r.status != IdentitySync.Status.DONE]
        if failed:
            self.message_user(
                request,
                f"{len(results) - len(failed)} of {len(results)} synced; still failing: "
                + "; ".join(f"{r.user.email}: {r.last_error}" for r in failed[:5]),
                messages.ERROR,
            )
        else:
            self.message_user(request, f"{counted(len(results), 'Cognito sync')} done.", messages.SUCCESS)


# Groups (the HR role) are Django's, edited by superusers only; re-registered so that their
# pages are in the back office's theme like every other admin page.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


# django-axes' sign-in records (where a superuser unlocks an account), in the theme as well.
class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin, ModelAdmin):
    pass


class AccessLogAdmin(axes_admin.AccessLogAdmin, ModelAdmin):
    pass


class AccessFailureLogAdmin(axes_admin.AccessFailureLogAdmin, ModelAdmin):
    pass


if admin.site.is_registered(AccessAttempt):  # AXES_ENABLE_ADMIN, on by default
    admin.site.unregister([AccessAttempt, AccessLog, AccessFailureLog])
    admin.site.register(AccessAttempt, AccessAttemptAdmin)
    admin.site.register(AccessLog, AccessLogAdmin)
    admin.site.register(AccessFailureLog, AccessFailureLogAdmin)
