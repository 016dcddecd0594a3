"""Earlier grants with the same content (shop.admin_kit.repeats): what a second press of Back-and-submit,
or a second tab, would repeat. Called by the points services under the accounts' row locks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from points.models import GrantBatch, GrantRequest, PointsTransaction
from shop.admin_kit.repeats import EarlierChange, repeat_since, when
from shop.models import User

Grant = tuple[User, int, str]


def _who(user: Any) -> str:
    return user.email if user is not None else "a script"


def _pending_requests(kind: str, source: str = "") -> Iterable[GrantRequest]:
    requests = GrantRequest.objects.filter(
        kind=kind, status=GrantRequest.Status.PENDING, requested_at__gte=repeat_since()
    )
    if source:
        requests = requests.filter(source=source)
    return requests.select_related("requested_by").order_by("-requested_at")


def _request_matches(request: GrantRequest, wanted: set[tuple[str, int, str]]) -> bool:
    return any((str(i["user"]), int(i["amount"]), str(i["reason"])) in wanted for i in request.payload)


def _request_change(request: GrantRequest) -> EarlierChange:
    return EarlierChange(
        token=f"request:{request.pk}",
        description=(
            f"a request for {request.total_points:,} points to {request.rows:,} "
            f"{'employee' if request.rows == 1 else 'employees'} (\u201c{request.reason}\u201d) made by "
            f"{_who(request.requested_by)} at {when(request.requested_at)}, waiting for approval"
        ),
    )


def _batch_what(batch: GrantBatch) -> str:
    if batch.department:
        return f"the department {batch.department}"
    return batch.get_source_display().lower()


def earlier_single(*, user: User, type: str, amount: int, reason: str) -> EarlierChange | None:
    """The latest grant or adjustment of the same points to the same employee for the same
    reason inside the window: a ledger entry written from the form, or a pending request."""
    entry = (
        PointsTransaction.objects.filter(
            account__user_id=user.pk,
            type=type,
            amount=amount,
            description=reason,
            batch__isnull=True,
            created_at__gte=repeat_since(),
        )
        .select_related("created_by")
        .order_by("-created_at")
        .first()
    )
    if entry is not None:
        verb = "granted" if type == PointsTransaction.Type.EARNED else "adjusted"
        return EarlierChange(
            token=f"entry:{entry.pk}",
            description=(
                f"{amount:+,} points {verb} to {user.email} (\u201c{reason}\u201d) by "
                f"{_who(entry.created_by)} at {when(entry.created_at)}"
            ),
        )
    kind = GrantRequest.Kind.GRANT if type == PointsTransaction.Type.EARNED else GrantRequest.Kind.ADJUST
    wanted = {(str(user.pk), amount, reason)}
    for request in _pending_requests(kind):
        if _request_matches(request, wanted):
            return _request_change(request)
    return None


def earlier_bulk(*, source: str, grants: Sequence[Grant]) -> EarlierChange | None:
    """The latest bulk grant of the same source that gave any of these employees the same
    points for the same reason inside the window (a batch, or a pending request)."""
    wanted = {(str(u.pk), amount, reason) for u, amount, reason in grants}
    since = repeat_since()
    for batch in GrantBatch.objects.filter(source=source, created_at__gte=since).select_related("created_by"):
        rows = PointsTransaction.objects.filter(batch=batch).values_list(
            "account__user_id", "amount", "description"
        )
        matched = next(((a, r) for user_id, a, r in rows if (str(user_id), a, r) in wanted), None)
        if matched is not None:
            amount, reason = matched
            return EarlierChange(
                token=f"batch:{batch.pk}",
                description=(
                    f"{_batch_what(batch)}: {amount:,} points to {batch.rows:,} "
                    f"{'employee' if batch.rows == 1 else 'employees'} (\u201c{reason}\u201d) by "
                    f"{_who(batch.created_by)} at {when(batch.created_at)}"
                ),
            )
    for request in _pending_requests(GrantRequest.Kind.BULK, source):
        if _request_matches(request, wanted):
            return _request_change(request)
    return None
