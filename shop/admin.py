"""Admin for employees. Balances are shown, never edited here: points change only via services."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from shop.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "name", "employee_id", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff")
    search_fields = ("email", "name", "employee_id")
    readonly_fields = ("cognito_sub", "date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "name", "employee_id", "password")}),
        ("Identity", {"fields": ("cognito_sub", "date_joined", "last_login")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "employee_id", "password1", "password2")}),
    )
