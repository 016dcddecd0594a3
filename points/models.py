"""Points accounts and the ledger.

Rules the database itself enforces (CHECK constraints), so that not even a bug can break them:
- a balance and its totals are never negative;
- balance = total_earned - total_redeemed + total_adjusted - total_expired, always;
- each ledger entry's sign matches its type, its balance_after is never negative, and entries
  of type redeemed/refunded point at an order while earned/adjusted/expired do not;
- an order has at most one redeemed and one refunded entry.
Totals: `earned` adds to total_earned; `redeemed` adds its size to total_redeemed; `refunded`
gives back a redemption, so it subtracts from total_redeemed; `adjusted` (HR corrections and
deductions) goes to total_adjusted; `expired` (points past their expiry date, written by
``expire_points``; see ``points/expiry.py``) adds its size to total_expired.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class PointsAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="points_account",
    )
    balance = models.BigIntegerField(default=0)
    total_earned = models.BigIntegerField(default=0)
    total_redeemed = models.BigIntegerField(default=0)
    total_adjusted = models.BigIntegerField(default=0)
    total_expired = models.BigIntegerField(default=0, db_default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = "points account"
        indexes = [models.Index(fields=["balance"], name="points_account_balance_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="account_balance_gte_0"),
            models.CheckConstraint(condition=Q(total_earned__gte=0), name="account_earned_gte_0"),
            models.CheckConstraint(condition=Q(total_redeemed__gte=0), name="account_redeemed_gte_0"),
            models.CheckConstraint(condition=Q(total_expired__gte=0), name="account_expired_gte_0"),
            models.CheckConstraint(
                condition=Q(
                    balance=F("total_earned") - F("total_redeemed") + F("total_adjusted") - F("total_expired")
                ),
                name="account_balance_matches_totals_with_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.balance}"


class PointsTransaction(models.Model):
    """One ledger entry. Entries are only ever inserted: never updated, never deleted."""

    # The app's database user may only SELECT and INSERT here (shop.db.grants).
    append_only = True

    class Type(models.TextChoices):
        EARNED = "earned", _("Earned")
        REDEEMED = "redeemed", _("Redeemed")
        REFUNDED = "refunded", _("Refunded")
        ADJUSTED = "adjusted", _("Adjusted")
        EXPIRED = "expired", _("Expired")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(PointsAccount, on_delete=models.PROTECT, related_name="entries")
    type = models.CharField(max_length=16, choices=Type.choices)
    amount = models.BigIntegerField(help_text="Signed: credits positive, debits negative.")
    balance_after = models.BigIntegerField()
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    description = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who made the change: the HR user for grants and refunds, the employee for orders.",
    )
    batch = models.ForeignKey(
        "points.GrantBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "ledger entry"
        verbose_name_plural = "ledger entries"
        ordering = ("-created_at", "-id")
        # The ledger's add/change/delete permissions are never honoured (entries are written by
        # the points services only); granting is its own permission, checked by the admin.
        permissions = [("grant_points", "Can grant, adjust and import points")]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="ledger_account_created_idx"),
            models.Index(fields=["type", "-created_at"], name="ledger_type_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_gte_0"),
            models.CheckConstraint(
                condition=(
                    Q(type="earned", amount__gt=0)
                    | Q(type="redeemed", amount__lt=0)
                    | Q(type="refunded", amount__gt=0)
                    | (Q(type="adjusted") & ~Q(amount=0))
                    | Q(type="expired", amount__lt=0)
                ),
                name="ledger_amount_sign_matches_type_with_expiry",
            ),
            models.CheckConstraint(
                condition=(
                    Q(type__in=["redeemed", "refunded"], order__isnull=False)
                    | Q(type__in=["earned", "adjusted", "expired"], order__isnull=True)
                ),
                name="ledger_order_iff_redemption_with_expiry",
            ),
            models.UniqueConstraint(fields=["order", "type"], name="ledger_one_entry_per_order_type"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.amount:+d}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValueError("Ledger entries are append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError("Ledger entries are append-only.")


class GrantBatch(models.Model):
    """One bulk grant (a CSV import, or 'everyone'): the ledger entries it wrote point at it.

    `content_hash` lets a second upload of the same file be flagged before it is applied.
    """

    class Source(models.TextChoices):
        ALL_ACTIVE = "all_active", _("All active employees")
        SELECTION = "selection", _("Selected employees")
        DEPARTMENT = "department", _("A department")
        CSV = "csv", _("CSV file")
        APPROVED_GRANT = "approved_grant", _("Approved grant to one employee")
        APPROVED_ADJUST = "approved_adjust", _("Approved adjustment")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=32, choices=Source.choices)
    filename = models.CharField(max_length=255, blank=True)
    # For a grant to a department: its name when granted (a later rename keeps this as it was).
    department = models.CharField(max_length=100, blank=True, default="", db_default="")
    content_hash = models.CharField(max_length=64, blank=True, db_index=True)
    rows = models.PositiveIntegerField(default=0)
    total_points = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name_plural = "grant batches"

    def __str__(self) -> str:
        what = self.get_source_display()
        if self.source == self.Source.DEPARTMENT and self.department:
            what = f"Department {self.department}"
        rows = f"{self.rows:,} row" + ("" if self.rows == 1 else "s")
        return f"{what} {self.filename} ({rows})".replace("  ", " ")


class GrantSubmission(models.Model):
    """A bulk-grant form that has been submitted: its one-time key, written in the transaction
    that writes the grant (or its approval request).

    Each render of the form carries a fresh key; the primary key makes a second submit of the
    same page (a double click, a resend after a slow answer, two tabs) fail inside its own
    transaction, so it writes nothing, even when both arrive at once.
    """

    key = models.CharField(max_length=64, primary_key=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


class PendingGrantImport(models.Model):
    """An uploaded grants CSV between its preview and its confirmation.

    The file is kept here rather than in the session (10,000 rows is too big for a cookie and
    clutters the session table); confirming re-parses and re-validates it, because employees
    may have been deactivated since the preview. Rows are deleted once applied or abandoned.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    filename = models.CharField(max_length=255, blank=True)
    content = models.TextField()
    content_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "pending grant import"

    def __str__(self) -> str:
        return f"{self.filename} ({self.content_hash[:12]})"


class GrantRequest(models.Model):
    """A grant or adjustment above GRANT_APPROVAL_THRESHOLD, waiting for a second HR user.

    Nothing moves while it is pending. `payload` holds what would be written, one item per
    ledger entry: {"user": pk, "email": ..., "amount": signed points, "reason": ...}. Approving
    applies it through the points services in the same transaction that marks it approved, and
    links the GrantBatch it wrote; the requester can never approve their own request.
    """

    class Kind(models.TextChoices):
        GRANT = "grant", _("Grant to one employee")
        ADJUST = "adjust", _("Adjustment of one employee")
        BULK = "bulk", _("Bulk grant")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    source = models.CharField(
        max_length=32, blank=True, choices=GrantBatch.Source.choices, help_text="Whom a bulk grant was for."
    )
    reason = models.CharField(max_length=255)
    payload = models.JSONField()
    rows = models.PositiveIntegerField()
    total_points = models.BigIntegerField(help_text="Sum of the points moved, deductions counted by size.")
    filename = models.CharField(max_length=255, blank=True)
    department = models.CharField(max_length=100, blank=True, default="", db_default="")
    content_hash = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True)
    batch = models.OneToOneField(
        GrantBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="grant_request"
    )

    class Meta:
        ordering = ("-requested_at",)
        verbose_name = "grant approval request"
        indexes = [models.Index(fields=["status", "-requested_at"], name="grant_request_status_idx")]
        constraints = [
            # Four eyes in the schema too: a decision is recorded with its decider and time, and
            # an approval is never by the requester and always names the batch it wrote.
            models.CheckConstraint(
                condition=(
                    Q(status="pending", decided_by__isnull=True, decided_at__isnull=True, batch__isnull=True)
                    | Q(
                        status="rejected",
                        decided_by__isnull=False,
                        decided_at__isnull=False,
                        batch__isnull=True,
                    )
                    | (
                        Q(
                            status="approved",
                            decided_by__isnull=False,
                            decided_at__isnull=False,
                            batch__isnull=False,
                        )
                        & ~Q(decided_by=F("requested_by"))
                    )
                ),
                name="grant_request_decision_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.total_points} points ({self.get_status_display().lower()})"


class ExpiryLots(models.Model):
    """One account's unspent points by expiry date, as the replay of its ledger left them
    (``points/expiry.py``), so the expiring-points reports replay only the accounts whose ledger
    changed since.

    Derived data, never a source of truth: a row is used only while the account still has
    ``entry_count`` ledger entries and the policy (``months``, ``time_zone``) is the same. The
    ledger is append-only, so an account's entry count identifies its entry set: any new entry
    changes the count and the account is replayed whole. Rows can be deleted at any time.
    """

    account = models.OneToOneField(
        PointsAccount, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    entry_count = models.BigIntegerField()
    months = models.PositiveSmallIntegerField()
    time_zone = models.CharField(max_length=64)
    lots = models.JSONField(help_text="[[ISO date, points], ...], soonest first, one item per date.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "expiry lots (cache)"
        verbose_name_plural = "expiry lots (cache)"

    def __str__(self) -> str:
        return f"{self.account_id}: {len(self.lots)} lots"
