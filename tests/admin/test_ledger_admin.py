"""The ledger in the admin: visible, filterable, exportable, never written from the admin."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from points.models import PointsTransaction
from points.services.grants import points_adjust
from tests.factories import UserFactory

CHANGELIST = reverse("admin:points_pointstransaction_changelist")


def _csv(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_ledger_is_visible_and_filterable(hr_client, make_user):
    a = make_user(email="ana@example.com", points=100)
    make_user(email="bo@example.com", points=50)
    points_adjust(user=a, amount=-10, reason="Correction")
    cl = hr_client.get(CHANGELIST, {"type__exact": "adjusted"}).context["cl"]
    assert [(e.account.user.email, e.amount) for e in cl.result_list] == [("ana@example.com", -10)]
    cl = hr_client.get(CHANGELIST, {"employee": "bo@"}).context["cl"]
    assert [e.amount for e in cl.result_list] == [50]
    cl = hr_client.get(CHANGELIST, {"date_from": "2000-01-01", "date_to": "2000-01-31"}).context["cl"]
    assert list(cl.result_list) == []


def test_ledger_export_is_the_filtered_list(hr_client, make_user):
    a = make_user(email="ana@example.com", points=100)
    make_user(email="bo@example.com", points=50)
    points_adjust(user=a, amount=-10, reason="=HYPERLINK(evil)")
    response = hr_client.get(reverse("admin:points_pointstransaction_export"), {"employee": "ana@"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    assert sorted(int(r["amount"]) for r in rows) == [-10, 100]
    assert {r["email"] for r in rows} == {"ana@example.com"}
    # A reason typed by someone cannot become a spreadsheet formula.
    assert "'=HYPERLINK(evil)" in {r["description"] for r in rows}


@pytest.mark.parametrize("who", ["hr_client", "super_client"])
def test_nobody_can_add_change_or_delete_ledger_entries(request, who, make_user):
    client = request.getfixturevalue(who)
    make_user(points=100)
    entry = PointsTransaction.objects.get()
    assert client.get(reverse("admin:points_pointstransaction_add")).status_code == 403
    change_url = reverse("admin:points_pointstransaction_change", args=[entry.pk])
    page = client.get(change_url)
    assert page.status_code == 200  # view only
    assert 'name="_save"' not in page.content.decode()
    response = client.post(change_url, {"amount": "999999", "balance_after": "999999", "type": "earned"})
    assert response.status_code == 403
    assert (
        client.post(
            reverse("admin:points_pointstransaction_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    response = client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [str(entry.pk)], "post": "yes"}
    )
    entry.refresh_from_db()
    assert (entry.amount, PointsTransaction.objects.count()) == (100, 1)


def test_ledger_changelist_query_count_does_not_grow(hr_client, django_assert_max_num_queries):
    for _ in range(40):
        UserFactory(points=5)
    with django_assert_max_num_queries(10):
        response = hr_client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 40


def test_employee_without_staff_cannot_see_the_ledger(client, make_user):
    user = make_user(points=5)
    client.force_login(user)
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and "/login/" in response["Location"]
