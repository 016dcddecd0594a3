"""Admin for orders: read-only records; refunds go through the refund service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from orders.models import Order


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "product", "quantity", "points_used", "status")
    list_filter = ("status", "created_at")
    search_fields = ("user__email", "product__name")
    list_select_related = ("user", "product")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
