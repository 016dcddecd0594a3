"""The e-mail outbox and each employee's notification preference.

A notification is written to the outbox in the same transaction as the change it reports (a
grant, an order, a refund) and sent later by ``send_notifications``, so a change never waits
for a mail server and a mail server never loses a change.

Status of an outbox row:
- ``pending``: waiting to be sent (again, after ``next_attempt_at``);
- ``sending``: claimed by a sender, which is talking to the mail service right now;
- ``sent``: the mail service accepted it;
- ``suppressed``: not sent on purpose (the employee turned optional e-mails off, or left);
- ``failed``: refused by the mail service every time it was tried, up to the attempt limit;
- ``unknown``: the sender stopped or lost the connection mid-send, so it cannot know whether
  the message went out. Never re-sent automatically (a message is sent at most once); HR sees
  these in the admin and can send one again knowingly.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Kind(models.TextChoices):
        GRANT = "grant", _("Points received")
        ORDER = "order", _("Order receipt")
        REFUND = "refund", _("Refund receipt")
        EXPIRY_WARNING = "expiry_warning", _("Points expiring soon")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        SUPPRESSED = "suppressed", _("Suppressed")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Outcome unknown")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # What the message is about, so one event never queues two messages (a retried grant, an
    # expiry run twice): e.g. "grant:<entry id>", "expiry:<date>".
    dedupe_key = models.CharField(max_length=200)
    context = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_once_per_event"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notification_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.user_id} ({self.status})"


class NotificationPreference(models.Model):
    """Order and refund receipts always go out; everything else can be switched off."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    optional_emails = models.BooleanField(
        default=True, help_text="Points received and expiry reminders. Receipts are always sent."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: optional e-mails {'on' if self.optional_emails else 'off'}"
