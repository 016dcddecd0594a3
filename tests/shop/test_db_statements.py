"""shop.db's prepared statements for the order path: the rows they write and read are the ORM's."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from catalog.models import CatalogVersion, Product
from notifications.models import Notification
from orders.models import Order
from points.models import PointsAccount, PointsTransaction
from shop.db.transactions import _has_database_made_values, insert_new, lock_one, save_fields
from tests.support.markers import requires_server_db


def _order(user: Any, product: Any) -> Order:
    return Order(
        user=user, product=product, quantity=2, unit_points_cost=300, points_used=600, balance_after=400
    )


def test_insert_new_writes_what_save_writes(employee, product):
    mine, theirs = _order(employee, product), _order(employee, product)
    insert_new(mine)
    theirs.save(force_insert=True)
    assert not mine._state.adding and mine.created_at is not None  # auto_now_add stamped
    columns = [f.attname for f in Order._meta.concrete_fields if f.attname not in ("id", "created_at")]
    stored = Order.objects.values(*columns)
    assert stored.get(pk=mine.pk) == stored.get(pk=theirs.pk)
    assert Order.objects.get(pk=mine.pk).created_at == mine.created_at


def test_insert_new_gives_a_database_made_key_to_the_instance(employee):
    notification = Notification(
        user=employee, kind="order", dedupe_key="k", context={"a": [1, "b"]}, next_attempt_at=timezone.now()
    )
    insert_new(notification)
    assert notification.pk is not None
    stored = Notification.objects.get(pk=notification.pk)
    assert (stored.dedupe_key, stored.context, stored.status) == ("k", {"a": [1, "b"]}, notification.status)


def test_insert_new_saves_models_with_receivers_the_ordinary_way(category):
    # Product saves bump the catalog version (catalog.signals): they must not be skipped.
    assert post_save.has_listeners(Product)
    before = CatalogVersion.objects.get(pk=1).token
    product = Product(name="Lamp", points_cost=10, category=category)
    insert_new(product)
    assert Product.objects.filter(pk=product.pk).exists()
    assert CatalogVersion.objects.get(pk=1).token != before


def test_a_failed_insert_marks_the_transaction_for_rollback(employee):
    def duplicate() -> Notification:
        return Notification(
            user=employee, kind="order", dedupe_key="dup", context={}, next_attempt_at=timezone.now()
        )

    duplicate().save()
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            insert_new(duplicate())
        assert connection.needs_rollback


def test_lock_one_reads_the_row_the_orm_reads(product):
    product.description = "Über-quiet"
    product.save()
    locked = lock_one(Product, "id", str(product.pk))  # the API hands over the id as text too
    assert locked is not None and not locked._state.adding
    fields = [f.attname for f in Product._meta.concrete_fields]
    orm = Product.objects.get(pk=product.pk)
    assert [getattr(locked, f) for f in fields] == [getattr(orm, f) for f in fields]
    assert lock_one(Product, "id", uuid.uuid4()) is None


@requires_server_db
@pytest.mark.django_db(transaction=True)
def test_lock_one_makes_a_second_locker_wait_for_the_first(make_user):
    user = make_user(points=1000)
    held, release = threading.Event(), threading.Event()
    waited: list[float] = []

    def first() -> None:
        try:
            with transaction.atomic():
                assert lock_one(PointsAccount, "user", user.pk) is not None
                held.set()
                release.wait(10)
        finally:
            connection.close()

    def second() -> None:
        try:
            held.wait(10)
            started = time.monotonic()
            with transaction.atomic():
                account = lock_one(PointsAccount, "user", user.pk)
            waited.append(time.monotonic() - started)
            assert account is not None and account.balance == 1000
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert held.wait(10)
    time.sleep(0.5)  # the second locker is now blocked on the row, if the lock is real
    release.set()
    for thread in threads:
        thread.join(15)
    assert len(waited) == 1 and waited[0] >= 0.4, waited


def test_save_fields_writes_the_named_fields_and_stamps_auto_now(employee):
    account = PointsAccount.objects.get(user=employee)
    stamped = account.updated_at
    account.balance, account.total_redeemed = 900, 100
    account.total_adjusted = 5  # not named: not written
    save_fields(account, ["balance", "total_redeemed", "updated_at"])
    stored = PointsAccount.objects.get(user=employee)
    assert (stored.balance, stored.total_redeemed, stored.total_adjusted) == (900, 100, 0)
    assert stored.updated_at > stamped and stored.updated_at == account.updated_at


def test_save_fields_sends_save_signals_unless_told_not_to(product):
    heard: list[Any] = []

    def listener(**kwargs: Any) -> None:
        heard.append(kwargs["update_fields"])

    post_save.connect(listener, sender=Product, dispatch_uid="test_save_fields_listener")
    try:
        product.stock = 7
        save_fields(product, ["stock"])
        assert heard == [frozenset({"stock"})]
        product.stock = 6
        save_fields(product, ["stock", "updated_at"], send_signals=False)
        assert heard == [frozenset({"stock"})]
    finally:
        post_save.disconnect(sender=Product, dispatch_uid="test_save_fields_listener")
    assert Product.objects.get(pk=product.pk).stock == 6


def test_save_fields_of_a_vanished_row_is_an_error_as_in_save(employee):
    account = PointsAccount.objects.get(user=employee)
    account.pk = uuid.uuid4()
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        save_fields(account, ["balance"])


def test_lock_one_takes_the_key_as_text_too(employee):
    with transaction.atomic():
        account = lock_one(PointsAccount, "user", str(employee.pk))
    assert account is not None and account.pk == employee.pk


@pytest.mark.django_db(transaction=True)
def test_lock_one_refuses_outside_a_transaction(make_user):
    # Outside a transaction the lock would end with its own statement: refused, as the ORM does.
    user = make_user()
    with pytest.raises(transaction.TransactionManagementError):
        lock_one(PointsAccount, "user", user.pk)


def test_models_with_database_made_values_are_inserted_by_save():
    class WithDatabaseDefault(models.Model):
        made = models.IntegerField(db_default=7)  # no Python default: only the database knows it

        class Meta:
            app_label = "shop"
            managed = False

    assert _has_database_made_values(WithDatabaseDefault)
    # The order path's models have none: they keep the once-built INSERT.
    assert not any(_has_database_made_values(m) for m in (Order, Notification, PointsTransaction))
