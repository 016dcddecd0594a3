"""Real threads against MariaDB and PostgreSQL: approvers at the same moment give exactly one
approval and one set of ledger entries (the request row is locked first)."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection

from points.models import GrantBatch, GrantRequest, PointsAccount, PointsTransaction
from points.services.approvals import (
    GrantRequestRefused,
    grant_request_approve,
    grant_request_reject,
    points_grant_bulk_or_request,
)
from tests.support.hr import make_hr
from tests.support.markers import requires_server_db
from tests.support.threads import run_at_once

pytestmark = [requires_server_db, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _outcome(result: object) -> str:
    if isinstance(result, GrantRequest):
        return str(result.status)
    if isinstance(result, GrantRequestRefused):
        return "refused"
    return repr(result)


@pytest.mark.parametrize("approvers", [2, 8])
def test_simultaneous_approvers_give_one_approval_and_one_set_of_entries(
    settings, make_user, record_figure, approvers
):
    settings.GRANT_APPROVAL_THRESHOLD = 1000
    requester = make_hr("req.hr@example.com")
    deciders = [make_hr(f"approver{i}.hr@example.com") for i in range(approvers)]
    employees = [make_user() for _ in range(20)]
    pending = points_grant_bulk_or_request(
        grants=[(u, 100, "Quarter award") for u in employees], source="selection", requested_by=requester
    )
    assert isinstance(pending, GrantRequest)

    results = run_at_once(
        approvers, lambda i: grant_request_approve(request_id=pending.pk, approved_by=deciders[i])
    )
    outcomes = Counter(_outcome(r) for r in results)
    record_figure(f"concurrency[{connection.vendor}] {approvers} approvers, one request: {dict(outcomes)}")
    assert outcomes == {"approved": 1, "refused": approvers - 1}
    request = GrantRequest.objects.get()
    assert request.status == "approved" and request.decided_by in deciders
    assert GrantBatch.objects.count() == 1
    assert PointsTransaction.objects.filter(batch=request.batch).count() == 20
    assert PointsTransaction.objects.count() == 20
    assert all(PointsAccount.objects.get(user=u).balance == 100 for u in employees)
    call_command("check_ledger")


def test_approve_and_reject_at_the_same_moment_decide_once(settings, make_user, record_figure):
    settings.GRANT_APPROVAL_THRESHOLD = 1000
    requester = make_hr("req.hr@example.com")
    approver, rejecter = make_hr("yes.hr@example.com"), make_hr("no.hr@example.com")
    employees = [make_user() for _ in range(20)]
    pending = points_grant_bulk_or_request(
        grants=[(u, 100, "Quarter award") for u in employees], source="selection", requested_by=requester
    )

    def work(i: int) -> GrantRequest:
        if i == 0:
            return grant_request_approve(request_id=pending.pk, approved_by=approver)
        return grant_request_reject(request_id=pending.pk, rejected_by=rejecter, note="over budget")

    outcomes = Counter(_outcome(r) for r in run_at_once(2, work))
    record_figure(f"concurrency[{connection.vendor}] approve vs reject: {dict(outcomes)}")
    assert outcomes["refused"] == 1 and outcomes["approved"] + outcomes["rejected"] == 1
    request = GrantRequest.objects.get()
    expected_entries = 20 if request.status == "approved" else 0
    assert PointsTransaction.objects.count() == expected_entries
    call_command("check_ledger")
