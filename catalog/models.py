"""Categories, products and the record of every stock change."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


def product_image_path(instance: Product, filename: str) -> str:
    return f"products/{instance.pk}/{filename}"


class Product(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    points_cost = models.IntegerField(validators=[MinValueValidator(1)])
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="products"
    )
    stock = models.IntegerField(default=0, validators=[MinValueValidator(0)])
    is_active = models.BooleanField(default=True)
    image = models.ImageField(upload_to=product_image_path, blank=True, max_length=500)
    thumbnail = models.ImageField(upload_to=product_image_path, blank=True, max_length=500)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)
        # Stock is not a form field: it changes through product_stock_adjust, under this permission.
        permissions = [("change_stock", "Can restock or correct stock")]
        indexes = [
            models.Index(fields=["is_active", "category"], name="product_active_category_idx"),
            models.Index(fields=["points_cost"], name="product_points_cost_idx"),
            models.Index(fields=["name"], name="product_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_gte_0"),
            models.CheckConstraint(condition=Q(points_cost__gt=0), name="product_points_cost_gt_0"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


class StockMovement(models.Model):
    """Why a product's stock changed, by whom: orders, refunds and HR restocks alike."""

    class Reason(models.TextChoices):
        ORDER = "order", _("Order")
        REFUND = "refund", _("Refund")
        RESTOCK = "restock", _("Restock")
        CORRECTION = "correction", _("Correction")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_movements")
    delta = models.IntegerField()
    stock_after = models.IntegerField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    note = models.CharField(max_length=255, blank=True)
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["product", "-created_at"], name="stock_product_created_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(stock_after__gte=0), name="stock_after_gte_0"),
            models.CheckConstraint(condition=~Q(delta=0), name="stock_delta_not_0"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.delta:+d}"


class CatalogVersion(models.Model):
    """One row whose token changes in the same transaction as anything the product list shows,
    except stock levels, which are read live beside a cached page (see catalog.page_cache).

    The token is random rather than a counter so that a rolled-back or restored database can
    never bring back a token that a server process has already cached a page under.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.token
