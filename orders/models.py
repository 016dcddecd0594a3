"""Orders and the idempotency records that make retried order requests safe."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Order(models.Model):
    class Status(models.TextChoices):
        DELIVERED = "delivered", _("Delivered")
        REFUNDED = "refunded", _("Refunded")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="orders")
    # Plain signed integers (CHECK constraints keep them positive): MySQL makes "positive"
    # fields UNSIGNED, and unsigned arithmetic in audit queries overflows on negation.
    quantity = models.SmallIntegerField()
    unit_points_cost = models.IntegerField()
    points_used = models.IntegerField()
    balance_after = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DELIVERED)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    refunded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    refund_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        permissions = [("refund_order", "Can refund orders")]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="order_user_created_idx"),
            models.Index(fields=["product", "-created_at"], name="order_product_created_idx"),
            models.Index(fields=["status", "-created_at"], name="order_status_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=10), name="order_quantity_1_to_10"
            ),
            models.CheckConstraint(condition=Q(unit_points_cost__gt=0), name="order_unit_cost_gt_0"),
            models.CheckConstraint(
                condition=Q(points_used=F("quantity") * F("unit_points_cost")),
                name="order_points_used_is_quantity_times_cost",
            ),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="order_balance_after_gte_0"),
            models.CheckConstraint(
                condition=(
                    Q(status="delivered", refunded_at__isnull=True)
                    | Q(status="refunded", refunded_at__isnull=False)
                ),
                name="order_refunded_at_iff_refunded",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.pk} ({self.status})"


class IdempotencyRecord(models.Model):
    """The first response to a (caller, Idempotency-Key) pair, replayed for retries.

    The unique constraint is what makes concurrent retries safe: exactly one request can
    claim a key; the others see it in progress or replay its stored response.
    """

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    claim_token = models.CharField(
        max_length=32, help_text="Which request holds the key; re-checked under the row lock."
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
