"""HR sees the outbox and decides to send a failed or unknown message again."""

from __future__ import annotations

from django.urls import reverse

from notifications.models import Notification
from points.services.grants import points_grant

URL = reverse("admin:notifications_notification_changelist")


def test_hr_sees_the_outbox_and_sends_an_unknown_message_again(
    hr_client, make_user, django_assert_max_num_queries
):
    ana = make_user()
    points_grant(user=ana, amount=30, reason="Welcome")
    Notification.objects.filter(user=ana).update(status=Notification.Status.UNKNOWN, attempts=1)
    with django_assert_max_num_queries(12):
        page = hr_client.get(URL)
    assert page.status_code == 200
    assert ana.email in page.content.decode()
    note = Notification.objects.get(user=ana)
    response = hr_client.post(URL, {"action": "send_again", "_selected_action": [note.pk]})
    assert response.status_code == 302
    note.refresh_from_db()
    assert (note.status, note.attempts) == (Notification.Status.PENDING, 0)


def test_hr_cannot_edit_or_delete_messages(hr_client, make_user):
    ana = make_user()
    points_grant(user=ana, amount=30, reason="Welcome")
    note = Notification.objects.get(user=ana)
    change = reverse("admin:notifications_notification_change", args=[note.pk])
    assert hr_client.post(change, {"status": "sent"}).status_code == 403
    delete = reverse("admin:notifications_notification_delete", args=[note.pk])
    assert hr_client.post(delete, {"post": "yes"}).status_code == 403
