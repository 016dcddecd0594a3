"""Admin for what the shop app owns on its own: the Cognito syncs of the roster; and Django's
groups and django-axes' sign-in records, re-registered on the back office's theme.

The employee admin (registering, grants, adjustments) spans the points and orders apps, so it
lives in the back office app above them (backoffice/admin.py).
"""

from __future__ import annotations

from typing import Any

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from shop.identity_sync import identity_sync_run
from shop.models import IdentitySync


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
            self.message_user(request, f"{len(results)} Cognito sync(s) done.", messages.SUCCESS)


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
