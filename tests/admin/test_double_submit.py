"""Forms that move points, submitted twice (a double click, a resend, two tabs), move them once:
grants to everyone, a selection, a department and one employee, and one employee's adjustment."""

from __future__ import annotations

import re
from collections import Counter
from secrets import token_urlsafe

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from points.models import GrantBatch, GrantRequest, GrantSubmission, PointsAccount, PointsTransaction
from points.services.approvals import points_grant_bulk_or_request, points_grant_or_request
from points.services.grants import (
    DuplicateSubmission,
    grant_submission_record,
    points_adjust,
    points_grant,
    points_grant_bulk,
)
from tests.support.hr import make_hr
from tests.support.markers import requires_server_db
from tests.support.threads import run_at_once

GRANT_ALL = reverse("admin:shop_user_grant_all")
GRANT_DEPARTMENT = reverse("admin:shop_user_grant_department")
USERS = reverse("admin:shop_user_changelist")


def submission_of(response) -> str:
    match = re.search(r'name="submission" value="([^"]+)"', response.content.decode())
    assert match, "no one-time key on the form"
    return match.group(1)


def test_grant_to_all_posted_twice_creates_one_batch_and_refuses_the_second(hr_client, make_user):
    a, b = make_user(), make_user()
    form = {"amount": "20", "reason": "Holiday gift", "submission": submission_of(hr_client.get(GRANT_ALL))}
    first = hr_client.post(GRANT_ALL, form)
    assert first.status_code == 302
    second = hr_client.post(GRANT_ALL, form, follow=True)
    assert "This form was already submitted; no more points were moved" in second.content.decode()
    assert GrantBatch.objects.count() == 1
    assert PointsTransaction.objects.count() == 2
    assert PointsAccount.objects.get(user=a).balance == PointsAccount.objects.get(user=b).balance == 20
    assert GrantSubmission.objects.count() == 1


def test_each_render_of_the_form_has_its_own_key(hr_client, make_user):
    make_user()
    first, second = submission_of(hr_client.get(GRANT_ALL)), submission_of(hr_client.get(GRANT_ALL))
    assert first != second
    for key, reason in ((first, "Twice on purpose"), (second, "Another grant")):
        hr_client.post(GRANT_ALL, {"amount": "5", "reason": reason, "submission": key})
    assert GrantBatch.objects.count() == 2


def test_a_form_without_its_key_grants_nothing(hr_client, make_user):
    make_user()
    response = hr_client.post(GRANT_ALL, {"amount": "20", "reason": "Holiday gift"})
    assert response.status_code == 200
    assert "This page is out of date" in response.content.decode()
    assert GrantBatch.objects.count() == 0


def test_a_form_shown_again_after_a_typo_keeps_its_key_and_still_grants_once(hr_client, make_user):
    make_user()
    key = submission_of(hr_client.get(GRANT_ALL))
    typo = hr_client.post(GRANT_ALL, {"amount": "abc", "reason": "Gift", "submission": key})
    assert submission_of(typo) == key
    hr_client.post(GRANT_ALL, {"amount": "10", "reason": "Gift", "submission": key})
    hr_client.post(GRANT_ALL, {"amount": "10", "reason": "Gift", "submission": key})
    assert GrantBatch.objects.count() == 1


def test_grant_to_selection_posted_twice_grants_once(hr_client, make_user):
    a = make_user()
    picked = {"action": "grant_points_selected", "_selected_action": [str(a.pk)]}
    key = submission_of(hr_client.post(USERS, picked))
    form = {**picked, "apply": "1", "amount": "30", "reason": "Thanks", "submission": key}
    hr_client.post(USERS, form)
    again = hr_client.post(USERS, form, follow=True)
    assert "already submitted" in again.content.decode()
    assert PointsAccount.objects.get(user=a).balance == 30
    assert GrantBatch.objects.count() == 1


def test_a_request_above_the_threshold_posted_twice_is_queued_once(settings, hr_client, make_user):
    settings.GRANT_APPROVAL_THRESHOLD = 100
    make_user(), make_user()
    form = {"amount": "80", "reason": "Year end", "submission": submission_of(hr_client.get(GRANT_ALL))}
    hr_client.post(GRANT_ALL, form)
    again = hr_client.post(GRANT_ALL, form, follow=True)
    assert "already submitted" in again.content.decode()
    assert GrantRequest.objects.count() == 1
    assert GrantBatch.objects.count() == 0


def test_the_key_is_spent_only_with_the_grant_it_guards(hr_user, make_user):
    # A grant that fails after spending the key rolls the key back too: the page may be sent again.
    a = make_user()
    key = token_urlsafe(32)

    def spend_then_fail() -> None:
        with transaction.atomic():
            grant_submission_record(key=key, submitted_by=hr_user)
            raise RuntimeError("the write after it failed")

    with pytest.raises(RuntimeError):
        spend_then_fail()
    assert not GrantSubmission.objects.exists()
    points_grant_bulk(grants=[(a, 10, "Gift")], source="selection", granted_by=hr_user, submission_key=key)
    with pytest.raises(DuplicateSubmission):
        points_grant_bulk(
            grants=[(a, 10, "Gift")], source="selection", granted_by=hr_user, submission_key=key
        )
    assert PointsAccount.objects.get(user=a).balance == 10


@requires_server_db
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("senders", [2, 6])
def test_the_same_form_sent_at_once_from_several_threads_grants_once(make_user, senders):
    hr = make_hr("sender.hr@example.com")
    employees = [make_user() for _ in range(10)]
    key = token_urlsafe(32)
    results = run_at_once(
        senders,
        lambda i: points_grant_bulk_or_request(
            grants=[(u, 10, "Thanks") for u in employees],
            source="all_active",
            requested_by=hr,
            submission_key=key,
        ),
    )
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"GrantBatch": 1, "DuplicateSubmission": senders - 1}, results
    assert GrantBatch.objects.count() == 1 and PointsTransaction.objects.count() == 10
    assert all(PointsAccount.objects.get(user=u).balance == 10 for u in employees)
    call_command("check_ledger")


# --- one employee -------------------------------------------------------------------------


def test_grant_to_one_employee_posted_twice_grants_once_and_refuses_the_second(hr_client, make_user):
    a = make_user()
    url = reverse("admin:shop_user_grant", args=[a.pk])
    form = {"amount": "25", "reason": "Spot award", "submission": submission_of(hr_client.get(url))}
    first = hr_client.post(url, form)
    assert first.status_code == 302
    second = hr_client.post(url, form, follow=True)
    assert "This form was already submitted; no more points were moved" in second.content.decode()
    assert PointsAccount.objects.get(user=a).balance == 25
    assert PointsTransaction.objects.filter(account__user=a).count() == 1
    assert GrantSubmission.objects.count() == 1


def test_grant_to_one_employee_without_its_key_grants_nothing(hr_client, make_user):
    a = make_user()
    response = hr_client.post(reverse("admin:shop_user_grant", args=[a.pk]), {"amount": "25", "reason": "x"})
    assert response.status_code == 200
    assert "This page is out of date" in response.content.decode()
    assert PointsAccount.objects.get(user=a).balance == 0


def test_grant_to_one_employee_above_the_threshold_posted_twice_is_queued_once(
    settings, hr_client, make_user
):
    settings.GRANT_APPROVAL_THRESHOLD = 100
    a = make_user()
    url = reverse("admin:shop_user_grant", args=[a.pk])
    form = {"amount": "500", "reason": "Patent award", "submission": submission_of(hr_client.get(url))}
    hr_client.post(url, form)
    again = hr_client.post(url, form, follow=True)
    assert "already submitted" in again.content.decode()
    assert GrantRequest.objects.count() == 1
    assert PointsAccount.objects.get(user=a).balance == 0


def test_the_single_grant_key_is_spent_with_its_grant(hr_user, make_user):
    a = make_user()
    key = token_urlsafe(32)
    points_grant(user=a, amount=10, reason="Gift", granted_by=hr_user, submission_key=key)
    with pytest.raises(DuplicateSubmission):
        points_grant(user=a, amount=10, reason="Gift", granted_by=hr_user, submission_key=key)
    assert PointsAccount.objects.get(user=a).balance == 10


# --- a department -------------------------------------------------------------------------


def test_grant_to_a_department_posted_twice_creates_one_batch_and_refuses_the_second(hr_client, make_user):
    members = [make_user(department="Sales"), make_user(department="Sales")]
    page = hr_client.get(GRANT_DEPARTMENT, {"department": "Sales"})
    form = {
        "department": "Sales",
        "shown_for": "Sales",
        "amount": "15",
        "reason": "Q3 target",
        "submission": submission_of(page),
    }
    first = hr_client.post(GRANT_DEPARTMENT, form)
    assert first.status_code == 302
    second = hr_client.post(GRANT_DEPARTMENT, form, follow=True)
    assert "This form was already submitted; no more points were moved" in second.content.decode()
    assert GrantBatch.objects.count() == 1
    assert [PointsAccount.objects.get(user=u).balance for u in members] == [15, 15]


def test_a_department_request_above_the_threshold_posted_twice_is_queued_once(settings, hr_client, make_user):
    settings.GRANT_APPROVAL_THRESHOLD = 100
    make_user(department="Sales"), make_user(department="Sales")
    page = hr_client.get(GRANT_DEPARTMENT, {"department": "Sales"})
    form = {
        "department": "Sales",
        "shown_for": "Sales",
        "amount": "80",
        "reason": "Year end",
        "submission": submission_of(page),
    }
    hr_client.post(GRANT_DEPARTMENT, form)
    again = hr_client.post(GRANT_DEPARTMENT, form, follow=True)
    assert "already submitted" in again.content.decode()
    assert GrantRequest.objects.count() == 1
    assert GrantBatch.objects.count() == 0


@requires_server_db
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_the_same_single_grant_sent_at_once_from_several_threads_grants_once(make_user):
    hr = make_hr("single.sender.hr@example.com")
    a = make_user()
    key = token_urlsafe(32)
    results = run_at_once(
        4,
        lambda i: points_grant_or_request(
            user=a, amount=10, reason="Thanks", requested_by=hr, submission_key=key
        ),
    )
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"PointsTransaction": 1, "DuplicateSubmission": 3}, results
    assert PointsAccount.objects.get(user=a).balance == 10
    call_command("check_ledger")


# --- one employee's adjustment ----------------------------------------------------------------


def test_a_deduction_posted_twice_deducts_once_and_refuses_the_second(hr_client, make_user):
    a = make_user(points=100)
    url = reverse("admin:shop_user_adjust", args=[a.pk])
    form = {
        "direction": "deduct",
        "amount": "30",
        "reason": "Duplicate award",
        "submission": submission_of(hr_client.get(url)),
    }
    assert hr_client.post(url, form).status_code == 302
    second = hr_client.post(url, form, follow=True)
    assert "This form was already submitted; no more points were moved" in second.content.decode()
    assert PointsAccount.objects.get(user=a).balance == 70
    assert PointsTransaction.objects.filter(account__user=a, type="adjusted").count() == 1


def test_an_adjustment_without_its_key_changes_nothing(hr_client, make_user):
    a = make_user(points=100)
    response = hr_client.post(
        reverse("admin:shop_user_adjust", args=[a.pk]), {"direction": "deduct", "amount": "30", "reason": "x"}
    )
    assert response.status_code == 200
    assert "This page is out of date" in response.content.decode()
    assert PointsAccount.objects.get(user=a).balance == 100


def test_an_adjustment_above_the_threshold_posted_twice_is_queued_once(settings, hr_client, make_user):
    settings.GRANT_APPROVAL_THRESHOLD = 100
    a = make_user(points=1000)
    url = reverse("admin:shop_user_adjust", args=[a.pk])
    form = {
        "direction": "deduct",
        "amount": "500",
        "reason": "Reversal",
        "submission": submission_of(hr_client.get(url)),
    }
    hr_client.post(url, form)
    again = hr_client.post(url, form, follow=True)
    assert "already submitted" in again.content.decode()
    assert GrantRequest.objects.count() == 1
    assert PointsAccount.objects.get(user=a).balance == 1000


def test_the_adjust_key_is_spent_with_its_adjustment(hr_user, make_user):
    a = make_user(points=100)
    key = token_urlsafe(32)
    points_adjust(user=a, amount=-10, reason="Fix", adjusted_by=hr_user, submission_key=key)
    with pytest.raises(DuplicateSubmission):
        points_adjust(user=a, amount=-10, reason="Fix", adjusted_by=hr_user, submission_key=key)
    assert PointsAccount.objects.get(user=a).balance == 90
