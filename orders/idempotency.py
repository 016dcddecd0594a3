"""Idempotency-Key handling for order placement.

A key is scoped to the caller and remembered for IDEMPOTENCY_TTL_SECONDS (24 h). The first
request claims it by inserting a row as the first statement of the order transaction
(`idempotency_insert`) and stores its response in that row before the same transaction
commits, so an order and its stored response exist together or not at all, in one round trip
more than an order without a key. The unique constraint arbitrates between concurrent
retries: a second request with the key waits on the first's uncommitted row and then finds
it committed (and replays it) or rolled back (and goes ahead itself). A refusal is stored
afterwards, in its own transaction, so that a retry replays it.

Rows that a request committed as `in_progress` (the older two-step claim, still used to take
over a key whose row is found in that state) are handled by `idempotency_claim`: the order
transaction then locks that row and re-checks the claim, and a claim whose request died
without finishing is taken over after IDEMPOTENCY_STALE_SECONDS.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from orders.models import IdempotencyRecord
from shop.errors import IdempotencyInProgress, IdempotencyKeyReused
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


def idempotency_insert(new_key: NewKey) -> IdempotencyRecord:
    """The order transaction's first statement: claim the key by inserting its row.

    Raises KeyTaken if another request's row exists; the caller's transaction is then rolled
    back as the exception leaves it (nothing else has been written yet).
    """
    try:
        return IdempotencyRecord.objects.create(
            user=new_key.user,
            key=new_key.key,
            request_hash=new_key.request_hash,
            claim_token=uuid.uuid4().hex,
            created_at=timezone.now(),
        )
    except IntegrityError as exc:
        raise KeyTaken() from exc


def idempotency_store_refusal(*, new_key: NewKey, status: int, body: Any) -> None:
    """Remember a refusal (e.g. 409 insufficient_points) so that a retry replays it."""
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(
                user=new_key.user,
                key=new_key.key,
                request_hash=new_key.request_hash,
                claim_token=uuid.uuid4().hex,
                state=IdempotencyRecord.State.COMPLETED,
                response_status=status,
                response_body=body,
                created_at=timezone.now(),
            )
    except IntegrityError:
        # A concurrent retry with this key got its answer stored first; that one is replayed.
        pass


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
    record = IdempotencyRecord.objects.select_for_update().filter(pk=claim.record_id).first()
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


def idempotency_purge_expired() -> int:
    cutoff = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
