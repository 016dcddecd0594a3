"""A realistic data set at volume (employees, products, orders, a year of ledger) for the
reports' benchmark and for trying the back office at company size.

Rows are computed in memory and written with ``bulk_create``, a few thousand per statement,
so 200,000 ledger entries take seconds rather than the hours one service call per entry
would. The ledger rules hold by construction, and ``check_ledger`` confirms them: each entry's
``balance_after`` is its account's running balance, each account's totals are the sums of its
entries, a redemption points at an order of the same size, a refund gives back a redemption of
an order marked refunded, and no balance goes below zero.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from catalog.models import Category, Product
from catalog.services import catalog_version_bump
from orders.models import Order
from points.models import PointsAccount, PointsTransaction
from shop.identity.departments import department_names
from shop.models import Department, User

DEPARTMENTS = (
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "People",
    "Operations",
    "Support",
    "Legal",
    "Product",
    "Design",
    "Data",
    "Security",
)
LOCATIONS = ("Lisbon", "Berlin", "Seattle", "Dublin", "Singapore", "São Paulo")
BATCH = 5000


@dataclass(frozen=True)
class VolumeResult:
    employees: int
    entries: int
    orders: int
    products: int


class VolumeExists(Exception):
    pass


@contextmanager
def _explicit_timestamps(*fields: tuple[type[models.Model], str]) -> Iterator[None]:
    # The seeded history spans a year; auto_now(_add) would stamp every row with this moment.
    saved = []
    for model, name in fields:
        f: Any = model._meta.get_field(name)
        saved.append((f, f.auto_now, f.auto_now_add))
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def volume_seed(
    *,
    employees: int,
    entries: int,
    products: int = 40,
    days: int = 365,
    prefix: str = "volume",
    seed: int = 14,
) -> VolumeResult:
    """Create ``employees`` employees and ``entries`` ledger entries over the last ``days`` days."""
    if User.objects.filter(email__startswith=f"{prefix}-").exists():
        raise VolumeExists(f"Employees named {prefix}-* exist already; use another --prefix.")
    rng = random.Random(seed)
    now = timezone.now()

    # HR's departments are records (the Departments page); the volume's employees are in them.
    known = set(department_names(active_only=False))
    Department.objects.bulk_create([Department(name=d) for d in DEPARTMENTS if d not in known])
    users: list[User] = []
    managers: dict[str, User] = {}
    for i in range(employees):
        department = DEPARTMENTS[i % len(DEPARTMENTS)]
        user = User(
            email=f"{prefix}-{i}@example.com",
            name=f"Volume Employee {i}",
            employee_id=f"{prefix}-{i}",
            department=department,
            location=LOCATIONS[i % len(LOCATIONS)],
            password="!",  # unusable: these people sign in through Cognito
            date_joined=now - timedelta(days=days),
        )
        # The first employee of each department manages the rest of it.
        if department in managers:
            user.manager = managers[department]
        else:
            managers[department] = user
        users.append(user)

    category, _ = Category.objects.get_or_create(slug=f"{prefix}-goods", defaults={"name": f"{prefix} goods"})
    catalog = [
        Product(
            name=f"{prefix} product {i}",
            points_cost=rng.choice((50, 100, 150, 200, 300, 500, 800, 1200)),
            category=category,
            stock=10**7,
        )
        for i in range(products)
    ]

    moments = sorted(now - timedelta(seconds=rng.uniform(0, days * 86400)) for _ in range(entries))
    accounts = {u.pk: PointsAccount(user=u, created_at=u.date_joined) for u in users}
    ledger: list[PointsTransaction] = []
    orders: list[Order] = []
    open_orders: dict[Any, list[Order]] = {}
    sold: dict[Any, int] = {}
    for moment in moments:
        user = users[rng.randrange(employees)]
        account = accounts[user.pk]
        roll = rng.random()
        product = catalog[rng.randrange(products)]
        quantity = 1 if rng.random() < 0.9 else 2
        cost = product.points_cost * quantity
        entry = PointsTransaction(account=account, created_at=moment)
        if roll < 0.40 and account.balance >= cost:
            order = Order(
                user=user,
                product=product,
                quantity=quantity,
                unit_points_cost=product.points_cost,
                points_used=cost,
                balance_after=account.balance - cost,
                created_at=moment,
            )
            orders.append(order)
            open_orders.setdefault(user.pk, []).append(order)
            sold[product.pk] = sold.get(product.pk, 0) + quantity
            account.balance -= cost
            account.total_redeemed += cost
            entry.type, entry.amount, entry.order, entry.created_by = "redeemed", -cost, order, user
        elif roll < 0.43 and open_orders.get(user.pk):
            order = open_orders[user.pk].pop()
            order.status, order.refunded_at, order.refund_reason = (
                Order.Status.REFUNDED,
                moment,
                "Seeded refund",
            )
            sold[order.product_id] -= order.quantity
            account.balance += order.points_used
            account.total_redeemed -= order.points_used
            entry.type, entry.amount, entry.order = "refunded", order.points_used, order
        elif roll < 0.45 and account.balance >= 10:
            amount = -rng.randint(1, min(account.balance, 200))
            account.balance += amount
            account.total_adjusted += amount
            entry.type, entry.amount, entry.description = "adjusted", amount, "Seeded correction"
        else:
            amount = rng.choice((50, 100, 100, 200, 250, 500))
            account.balance += amount
            account.total_earned += amount
            entry.type, entry.amount, entry.description = "earned", amount, "Seeded grant"
        entry.balance_after = account.balance
        account.updated_at = moment
        ledger.append(entry)
    for product in catalog:
        product.stock -= sold.get(product.pk, 0)

    with (
        transaction.atomic(),
        _explicit_timestamps(
            (PointsTransaction, "created_at"),
            (Order, "created_at"),
            (PointsAccount, "created_at"),
            (PointsAccount, "updated_at"),
        ),
    ):
        User.objects.bulk_create([u for u in users if u.manager is None], batch_size=BATCH)
        User.objects.bulk_create([u for u in users if u.manager is not None], batch_size=BATCH)
        PointsAccount.objects.bulk_create(accounts.values(), batch_size=BATCH)
        Product.objects.bulk_create(catalog, batch_size=BATCH)
        # bulk_create sends no signals: invalidate the cached product pages ourselves.
        catalog_version_bump()
        Order.objects.bulk_create(orders, batch_size=BATCH)
        PointsTransaction.objects.bulk_create(ledger, batch_size=BATCH)
    return VolumeResult(employees=employees, entries=len(ledger), orders=len(orders), products=products)
