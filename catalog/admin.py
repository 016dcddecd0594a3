"""Admin for categories and products. Stock is read-only here: it changes through services."""

from __future__ import annotations

from django.contrib import admin

from catalog.models import Category, Product


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "points_cost", "stock", "is_active")
    list_filter = ("is_active", "category")
    search_fields = ("name", "description")
    readonly_fields = ("stock",)
