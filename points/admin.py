"""Admin for the ledger: visible to HR, never added to, changed or deleted from here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from points.models import PointsTransaction


@admin.register(PointsTransaction)
class LedgerAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "account",
        "type",
        "amount",
        "balance_after",
        "order",
        "description",
        "created_by",
    )
    list_filter = ("type", "created_at")
    search_fields = ("account__user__email", "description")
    list_select_related = ("account__user", "order", "created_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
