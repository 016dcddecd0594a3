"""Idempotency-Key handling for order placement.

A key is scoped to the caller and remembered for IDEMPOTENCY_TTL_SECONDS (24 h). The first
request claims it inside the order transaction: once the order row is written, the key's row
is inserted already completed, with the response to replay (`idempotency_insert`), so an order
and its stored response exist together or not at all, for one statement more than an order
without a key. The unique constraint arbitrates between retries, and the order's lock order
makes them wait for each other first: keys are per caller, and every order transaction locks
the caller's points account before anything else, so a retry waits there until the first
request ends. If the first committed, the retry's insert fails (KeyTaken), its transaction
rolls back, and it replays the stored response; if the first rolled back, the retry orders. A
retry that is refused before it gets to the insert (the first took the last item, or the
points) finds the key taken when it stores its refusal, and replays the first answer too. A
refusal is stored in its own transaction, so that a retry replays it; if that COMMIT is lost,
the refusal is still the answer, but the key is not left remembering it (RefusalNotRecorded).

Rows that a request committed as `in_progress` (the older two-step claim, still used to take
over a key whose row is found in that state) are handled by `idempotency_claim`: the order
transaction then locks that row, after the account, and re-checks the claim, and a claim whose
request died without finishing is taken over after IDEMPOTENCY_STALE_SECONDS.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from orders.lock_objects import idempotency_record_for_update
from orders.models import IdempotencyRecord, Order
from shop.db.purge import BATCH_SIZE, delete_in_batches
from shop.db.transactions import atomic_with_known_outcome, insert_new
from shop.http.errors import IdempotencyInProgress, IdempotencyKeyReused, OutcomeUnknown
from shop.models import User


def request_fingerprint(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def is_valid_key(key: str) -> bool:
    return 1 <= len(key) <= 255 and all(" " <= ch <= "~" for ch in key)


@dataclass(frozen=True)
class Claim:
    record_id: int
    token: str


@dataclass(frozen=True)
class Replay:
    status: int
    body: Any


@dataclass(frozen=True)
class NewKey:
    """A key this request wants to claim inside its order transaction."""

    user: User
    key: str
    request_hash: str


class KeyTaken(Exception):
    """The key already has a committed row: replay it, or take it over, outside the transaction."""


def idempotency_insert(new_key: NewKey, *, status: int, body: Any, order: Order) -> IdempotencyRecord:
    """In the order transaction, after the order row: claim the key and store its response,
    in one INSERT.

    Raises KeyTaken if the key has a row already; the caller's transaction is then rolled back
    as the exception leaves it (on PostgreSQL the failed insert has aborted it anyway).
    """
    record = _completed(new_key, status=status, body=body, order=order)
    try:
        insert_new(record)
    except IntegrityError as exc:
        raise KeyTaken() from exc
    return record


class RefusalNotRecorded(Exception):
    """The refusal's COMMIT was lost: the order was refused (nothing was placed), but whether
    the key remembers the refusal is unknown. The row, if it was committed, has been deleted
    when the database allowed it, so that a retry with the key is processed afresh."""


def idempotency_store_refusal(*, new_key: NewKey, status: int, body: Any) -> bool:
    """Remember a refusal (e.g. 409 insufficient_points) so that a retry replays it.

    False if the key has a row already: an earlier request with it (this one's first attempt,
    whose order took the last item or the points this one wanted) answered first, and that
    answer is the one to replay.

    Raises RefusalNotRecorded if the connection was lost during the COMMIT. The refusal is
    still the answer (the order was refused either way); what is unknown is only whether the
    key remembers it. Left alone, a committed row would replay the refusal to a client that
    was never told it, even after stock or points came back; so it is deleted, best effort,
    and the client is told that a retry is processed again.
    """
    try:
        with atomic_with_known_outcome():
            _completed(new_key, status=status, body=body, order=None).save(force_insert=True)
    except IntegrityError:
        return False
    except OutcomeUnknown as exc:
        with contextlib.suppress(Exception):  # unreachable again: the row may stay (see docs/faults.md)
            IdempotencyRecord.objects.filter(
                user=new_key.user, key=new_key.key, order__isnull=True, response_status=status
            ).delete()
        raise RefusalNotRecorded() from exc
    return True


def _completed(new_key: NewKey, *, status: int, body: Any, order: Order | None) -> IdempotencyRecord:
    """A key's row written once, already holding the response a retry replays."""
    return IdempotencyRecord(
        user=new_key.user,
        key=new_key.key,
        request_hash=new_key.request_hash,
        claim_token=uuid.uuid4().hex,
        state=IdempotencyRecord.State.COMPLETED,
        response_status=status,
        response_body=body,
        order=order,
        created_at=timezone.now(),
    )


def idempotency_claim(*, user: User, key: str, request_hash: str) -> Claim | Replay:
    """Claim `key` for this request, or return the stored response to replay.

    Raises IdempotencyKeyReused for a different body, IdempotencyInProgress while another
    request with the key is being processed.
    """
    now = timezone.now()
    for _ in range(3):
        token = uuid.uuid4().hex
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, key=key, request_hash=request_hash, claim_token=token, created_at=now
                )
            return Claim(record_id=record.pk, token=token)
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            continue  # expired and removed between our insert and read: try again
        if existing.created_at < now - timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS):
            IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.request_hash != request_hash:
            raise IdempotencyKeyReused()
        if existing.state == IdempotencyRecord.State.COMPLETED:
            return Replay(status=existing.response_status or 200, body=existing.response_body)
        stale_before = now - timedelta(seconds=settings.IDEMPOTENCY_STALE_SECONDS)
        if existing.updated_at < stale_before:
            token = uuid.uuid4().hex
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk,
                state=IdempotencyRecord.State.IN_PROGRESS,
                claim_token=existing.claim_token,
            ).update(claim_token=token, updated_at=now)
            if taken:
                return Claim(record_id=existing.pk, token=token)
        raise IdempotencyInProgress()
    raise IdempotencyInProgress()


def idempotency_lock(claim: Claim) -> IdempotencyRecord:
    """Inside the order transaction: lock the record and make sure the claim is still ours."""
    record = idempotency_record_for_update(claim.record_id)
    if (
        record is None
        or record.state != IdempotencyRecord.State.IN_PROGRESS
        or record.claim_token != claim.token
    ):
        raise IdempotencyInProgress()
    return record


def idempotency_complete(
    *, record: IdempotencyRecord, status: int, body: Any, order: models.Model | None = None
) -> None:
    record.state = IdempotencyRecord.State.COMPLETED
    record.response_status = status
    record.response_body = body
    record.order = order  # type: ignore[assignment]
    record.save(update_fields=["state", "response_status", "response_body", "order", "updated_at"])


def idempotency_release(claim: Claim) -> None:
    """The request failed without an answer worth replaying (e.g. 503): free the key."""
    IdempotencyRecord.objects.filter(
        pk=claim.record_id,
        state=IdempotencyRecord.State.IN_PROGRESS,
        claim_token=claim.token,
    ).delete()


def idempotency_record_failure(*, claim: Claim, status: int, body: Any) -> None:
    """Store a refusal (e.g. 409 insufficient_points) so a retry replays it."""
    with transaction.atomic():
        record = idempotency_lock(claim)
        idempotency_complete(record=record, status=status, body=body)


def idempotency_purge_expired(*, batch_size: int = BATCH_SIZE, max_batches: int | None = None) -> int:
    """Delete the keys older than IDEMPOTENCY_TTL_SECONDS, in batches; the number deleted.

    A request that comes with such a key is treated as new whether its row is still there
    (idempotency_claim replaces it) or not, so deleting them changes no answer.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS)
    expired = IdempotencyRecord.objects.filter(created_at__lt=cutoff)
    return delete_in_batches(expired, batch_size=batch_size, max_batches=max_batches)
