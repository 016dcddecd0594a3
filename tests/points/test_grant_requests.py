"""Four eyes: grants and adjustments above GRANT_APPROVAL_THRESHOLD wait for a second HR user."""

from __future__ import annotations

import re

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from points.models import GrantBatch, GrantRequest, PointsAccount, PointsTransaction
from points.services.approvals import (
    GrantRequestRefused,
    grant_request_approve,
    grant_request_reject,
    points_adjust_or_request,
    points_grant_bulk_or_request,
    points_grant_or_request,
)
from points.services.checks import ApprovalRequired
from points.services.grants import grant_recipients_all, points_grant, points_grant_bulk
from shop.http.errors import InvalidAmount, NegativeBalance
from shop.identity.services import users_deactivate
from tests.support.hr import make_hr

pytestmark = pytest.mark.django_db


def balance(user) -> int:
    return PointsAccount.objects.get(user=user).balance


@pytest.fixture
def threshold(settings):
    settings.GRANT_APPROVAL_THRESHOLD = 1000
    return 1000


@pytest.fixture
def hr_a(db):
    return make_hr("ana.hr@example.com")


@pytest.fixture
def hr_b(db):
    return make_hr("ben.hr@example.com")


def test_default_threshold_is_ten_thousand():
    from django.conf import settings

    assert settings.GRANT_APPROVAL_THRESHOLD == 10_000


def test_at_the_threshold_applies_above_it_waits(threshold, hr_a, make_user):
    a = make_user()
    entry = points_grant_or_request(user=a, amount=threshold, reason="Award", requested_by=hr_a)
    assert isinstance(entry, PointsTransaction) and balance(a) == threshold
    pending = points_grant_or_request(user=a, amount=threshold + 1, reason="Big award", requested_by=hr_a)
    assert isinstance(pending, GrantRequest)
    assert pending.status == GrantRequest.Status.PENDING
    assert (pending.kind, pending.rows, pending.total_points) == ("grant", 1, threshold + 1)
    assert balance(a) == threshold  # nothing moved
    assert PointsTransaction.objects.count() == 1


def test_the_plain_services_refuse_above_the_threshold_without_an_approval(threshold, hr_a, make_user):
    a, b = make_user(), make_user()
    with pytest.raises(ApprovalRequired):
        points_grant(user=a, amount=threshold + 1, reason="x", granted_by=hr_a)
    with pytest.raises(ApprovalRequired):
        points_grant(user=a, amount=threshold + 1, reason="x")  # a script without a requester
    with pytest.raises(ApprovalRequired):
        points_grant_bulk(  # a and b
            grants=[(u, threshold // 2 + 1, "x") for u in grant_recipients_all(acting=hr_a)],
            source=GrantBatch.Source.ALL_ACTIVE,
            granted_by=hr_a,
        )
    assert balance(a) == balance(b) == 0
    assert PointsTransaction.objects.count() == 0 and GrantBatch.objects.count() == 0


def test_a_bulk_grant_counts_its_total(threshold, hr_a, make_user):
    users = [make_user() for _ in range(3)]
    result = points_grant_bulk_or_request(
        grants=[(u, 400, "Team award") for u in users], source="selection", requested_by=hr_a
    )
    assert isinstance(result, GrantRequest)
    assert (result.kind, result.rows, result.total_points, result.source) == ("bulk", 3, 1200, "selection")
    assert all(balance(u) == 0 for u in users)


def test_another_hr_user_approves_and_the_grant_is_applied_once(threshold, hr_a, hr_b, make_user):
    a, b = make_user(), make_user()
    pending = points_grant_bulk_or_request(
        grants=[(a, 700, "Launch"), (b, 700, "Launch")], source="selection", requested_by=hr_a
    )
    approved = grant_request_approve(request_id=pending.pk, approved_by=hr_b, note="ok, budgeted")
    assert approved.status == GrantRequest.Status.APPROVED
    assert (approved.decided_by, approved.note) == (hr_b, "ok, budgeted")
    assert approved.decided_at is not None and approved.batch is not None
    assert balance(a) == balance(b) == 700
    entries = PointsTransaction.objects.filter(batch=approved.batch)
    assert entries.count() == 2
    assert {e.created_by for e in entries} == {hr_a}  # who asked; the request records who approved
    with pytest.raises(GrantRequestRefused, match=r"already approved by ben\.hr@example\.com"):
        grant_request_approve(request_id=pending.pk, approved_by=make_hr("cy.hr@example.com"))
    assert balance(a) == 700 and PointsTransaction.objects.count() == 2
    call_command("check_ledger")


def test_the_requester_cannot_approve(threshold, hr_a, make_user):
    a = make_user()
    pending = points_grant_or_request(user=a, amount=5000, reason="x", requested_by=hr_a)
    with pytest.raises(GrantRequestRefused, match="another HR user must approve"):
        grant_request_approve(request_id=pending.pk, approved_by=hr_a)
    pending.refresh_from_db()
    assert pending.status == "pending" and balance(a) == 0


def test_the_database_refuses_an_approval_by_the_requester(threshold, hr_a, make_user):
    pending = points_grant_or_request(user=make_user(), amount=5000, reason="x", requested_by=hr_a)
    batch = GrantBatch.objects.create(source="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        GrantRequest.objects.filter(pk=pending.pk).update(
            status="approved", decided_by=hr_a, decided_at=timezone.now(), batch=batch
        )


def test_approving_a_grant_to_oneself_is_refused(threshold, hr_a, make_user):
    hr_employee = make_hr("eve.hr@example.com", is_employee=True)
    a = make_user()
    pending = points_grant_bulk_or_request(
        grants=[(a, 600, "x"), (hr_employee, 600, "x")], source="selection", requested_by=hr_a
    )
    with pytest.raises(GrantRequestRefused, match="You are among the recipients"):
        grant_request_approve(request_id=pending.pk, approved_by=hr_employee)
    assert balance(a) == balance(hr_employee) == 0
    assert GrantRequest.objects.get().status == "pending"


def test_a_request_for_oneself_is_never_queued(threshold, make_user):
    hr_employee = make_hr("eve.hr@example.com", is_employee=True)
    from shop.http.errors import OwnAccountRefused

    with pytest.raises(OwnAccountRefused):
        points_grant_or_request(user=hr_employee, amount=5000, reason="me", requested_by=hr_employee)
    assert GrantRequest.objects.count() == 0


def test_approving_after_a_recipient_left_the_roster_is_refused(threshold, hr_a, hr_b, make_user):
    a, b = make_user(), make_user()
    pending = points_grant_bulk_or_request(
        grants=[(a, 600, "x"), (b, 600, "x")], source="selection", requested_by=hr_a
    )
    users_deactivate(users=[b])
    with pytest.raises(GrantRequestRefused, match=re.escape(f"left the roster since the request: {b.email}")):
        grant_request_approve(request_id=pending.pk, approved_by=hr_b)
    assert balance(a) == balance(b) == 0
    assert GrantRequest.objects.get().status == "pending"
    assert GrantBatch.objects.count() == 0


def test_reject_records_the_note_and_moves_nothing(threshold, hr_a, hr_b, make_user):
    a = make_user()
    pending = points_grant_or_request(user=a, amount=5000, reason="x", requested_by=hr_a)
    with pytest.raises(InvalidAmount, match="Say why"):
        grant_request_reject(request_id=pending.pk, rejected_by=hr_b, note="  ")
    rejected = grant_request_reject(
        request_id=pending.pk, rejected_by=hr_b, note="Not in this quarter's budget"
    )
    assert (rejected.status, rejected.decided_by, rejected.note) == (
        "rejected",
        hr_b,
        "Not in this quarter's budget",
    )
    with pytest.raises(GrantRequestRefused, match="already rejected"):
        grant_request_approve(request_id=pending.pk, approved_by=hr_b)
    assert balance(a) == 0 and PointsTransaction.objects.count() == 0


def test_someone_without_the_grant_permission_cannot_request(threshold, make_user):
    a, outsider = make_user(), make_user()
    with pytest.raises(GrantRequestRefused, match="may not request grants"):
        points_grant_or_request(user=a, amount=5000, reason="x", requested_by=outsider)
    assert GrantRequest.objects.count() == 0


def test_someone_without_the_grant_permission_cannot_decide(threshold, hr_a, make_user):
    pending = points_grant_or_request(user=make_user(), amount=5000, reason="x", requested_by=hr_a)
    outsider = make_user()
    with pytest.raises(GrantRequestRefused, match="may not decide"):
        grant_request_approve(request_id=pending.pk, approved_by=outsider)
    with pytest.raises(GrantRequestRefused, match="may not decide"):
        grant_request_reject(request_id=pending.pk, rejected_by=outsider, note="no")


def test_a_large_adjustment_waits_and_a_deduction_is_checked_when_approved(threshold, hr_a, hr_b, make_user):
    a = make_user(points=3000)
    pending = points_adjust_or_request(user=a, amount=-2500, reason="Duplicate award", requested_by=hr_a)
    assert isinstance(pending, GrantRequest) and pending.total_points == 2500
    assert balance(a) == 3000
    # The employee spends in the meantime; the approval cannot take the balance below zero.
    points_adjust_or_request(user=a, amount=-1000, reason="Spent elsewhere", requested_by=hr_b)
    with pytest.raises(NegativeBalance):
        grant_request_approve(request_id=pending.pk, approved_by=hr_b)
    assert GrantRequest.objects.get().status == "pending" and balance(a) == 2000
    points_grant_or_request(user=a, amount=500, reason="Back", requested_by=hr_b)
    approved = grant_request_approve(request_id=pending.pk, approved_by=hr_b)
    assert balance(a) == 0
    entry = PointsTransaction.objects.get(batch=approved.batch)
    assert (entry.type, entry.amount) == ("adjusted", -2500)
    call_command("check_ledger")


def test_approving_a_csv_sized_request_takes_a_bounded_number_of_queries(
    threshold, hr_a, hr_b, make_user, django_assert_max_num_queries
):
    users = [make_user() for _ in range(50)]
    pending = points_grant_bulk_or_request(
        grants=[(users[i % 50], 1 + i % 7, "Bulk award") for i in range(2000)],
        source="csv",
        requested_by=hr_a,
        filename="awards.csv",
        content_hash="f" * 64,
    )
    # Lock, read recipients, check the approver's permission, batch, lock accounts, bulk writes,
    # mark approved: about 15 statements on MariaDB/PostgreSQL, more on SQLite (999 parameters
    # per statement); never one per row.
    # + the e-mail to each recipient, into the outbox in batches (about 20 on SQLite's
    # 999-parameter statements, 2 elsewhere).
    with django_assert_max_num_queries(60 if connection.vendor == "sqlite" else 42):
        grant_request_approve(request_id=pending.pk, approved_by=hr_b)
    assert PointsTransaction.objects.count() == 2000
    assert GrantBatch.objects.get().content_hash == "f" * 64


# --- management commands -----------------------------------------------------------------


def test_grant_points_above_the_threshold_needs_a_requester(threshold, make_user):
    a = make_user()
    with pytest.raises(CommandError, match="--requested-by EMAIL"):
        call_command("grant_points", "--email", a.email, "--amount", "5000", "--reason", "x")
    assert balance(a) == 0 and GrantRequest.objects.count() == 0


def test_grant_points_with_a_requester_creates_a_pending_request(threshold, hr_a, hr_b, make_user, capsys):
    a = make_user()
    call_command(
        "grant_points", "--email", a.email, "--amount", "5000", "--reason", "x", "--requested-by", hr_a.email
    )
    assert "waits for another HR user's approval" in capsys.readouterr().out
    pending = GrantRequest.objects.get()
    assert (pending.requested_by, pending.total_points, balance(a)) == (hr_a, 5000, 0)
    grant_request_approve(request_id=pending.pk, approved_by=hr_b)
    assert balance(a) == 5000


def test_import_points_above_the_threshold_creates_a_pending_request(threshold, hr_a, make_user, tmp_path):
    a, b = make_user(), make_user()
    path = tmp_path / "big.csv"
    path.write_text(f"{a.email},600,Award\n{b.email},600,Award\n")
    with pytest.raises(CommandError, match="--requested-by"):
        call_command("import_points", str(path))
    call_command("import_points", str(path), "--requested-by", hr_a.email)
    pending = GrantRequest.objects.get()
    assert (pending.source, pending.rows, pending.filename) == ("csv", 2, "big.csv")
    with pytest.raises(CommandError, match="already waiting for approval"):
        call_command("import_points", str(path), "--requested-by", hr_a.email)
    assert balance(a) == balance(b) == 0
