"""The outbox for HR and operations: what was sent, what waits, what needs a decision."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from notifications.models import Notification
from notifications.services import notification_resend
from shop.admin_kit.tools import counted


@admin.register(Notification)
class NotificationAdmin(ModelAdmin):
    list_display = ("created_at", "user", "kind", "status", "attempts", "sent_at", "last_error")
    list_filter = ("status", "kind")
    search_fields = ("user__email", "dedupe_key")
    list_select_related = ("user",)
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Send again (failed or outcome unknown: the employee may get it twice)")
    def send_again(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        chosen = list(queryset.filter(status__in=[Notification.Status.FAILED, Notification.Status.UNKNOWN]))
        for notification in chosen:
            notification_resend(notification=notification)
        self.message_user(
            request, f"{counted(len(chosen), 'message')} queued to be sent again.", messages.SUCCESS
        )
