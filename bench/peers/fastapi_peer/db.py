"""The peer's database side: one async engine per worker, and the two operations in plain SQL.

The tables are the Django app's (see catalog/, points/ and orders/ models). The statements
follow the product's lock order (points account, then product) and write every row the
product's redemption writes that the ledger audit and the stock history rely on: the order,
its `redeemed` ledger entry, the account's balance and totals, the product's stock and its
stock movement, and the catalog version when stock reaches zero.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# The design documents: up to 20 pooled connections per instance (10 for each of its 2 workers),
# recycled after 300 s. No overflow: QueuePool closes overflow connections when they are given
# back to a full pool, so under steady load they would be reopened for every request.
POOL_SIZE = 10
POOL_OVERFLOW = 0
POOL_RECYCLE_SECONDS = 300


def engine_from_environment() -> AsyncEngine:
    """The engine for PEER_DATABASE_URL (a mysql:// or postgres:// address, as DATABASE_URL)."""
    url = os.environ["PEER_DATABASE_URL"]
    scheme, rest = url.split("://", 1)
    driver = {"mysql": "mysql+asyncmy", "postgres": "postgresql+asyncpg", "postgresql": "postgresql+asyncpg"}
    return create_async_engine(
        f"{driver[scheme]}://{rest}",
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_recycle=POOL_RECYCLE_SECONDS,
        # The isolation level Django sets on MySQL (and PostgreSQL's default): the locked rows
        # are re-read under their locks, so READ COMMITTED is enough and never has gap locks.
        isolation_level="READ COMMITTED",
    )


@dataclass(frozen=True)
class Dialect:
    """How this database stores the values Django's fields map: UUIDs and UTC datetimes."""

    postgres: bool
    uuid_as_hex: bool  # MySQL 8 stores UUIDField as char(32); MariaDB 10.7+ and PostgreSQL as uuid

    def uuid_param(self, value: uuid.UUID) -> Any:
        if self.postgres:
            return value
        return value.hex if self.uuid_as_hex else str(value)

    def now_param(self, now: datetime) -> datetime:
        # Django keeps USE_TZ datetimes in UTC; MySQL's DATETIME columns hold them naive.
        return now if self.postgres else now.replace(tzinfo=None)


def uuid_text(value: Any) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    return value if len(value) == 36 else str(uuid.UUID(value))


async def dialect_of(engine: AsyncEngine) -> Dialect:
    if engine.dialect.name == "postgresql":
        return Dialect(postgres=True, uuid_as_hex=False)
    async with engine.connect() as conn:
        column_type = (
            await conn.execute(
                text(
                    "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                    "AND TABLE_NAME = 'catalog_product' AND COLUMN_NAME = 'id'"
                )
            )
        ).scalar_one()
    return Dialect(postgres=False, uuid_as_hex=str(column_type).lower() == "char")


EMPLOYEE_SQL = text("SELECT id FROM shop_user WHERE cognito_sub = :sub AND is_active")
COUNT_SQL = text("SELECT COUNT(*) FROM catalog_product WHERE is_active")
PAGE_SQL = text(
    "SELECT p.id, p.name, p.description, p.points_cost, p.stock, p.image, c.id, c.name, c.slug "
    "FROM catalog_product p LEFT JOIN catalog_category c ON c.id = p.category_id "
    "WHERE p.is_active ORDER BY p.name, p.id LIMIT :limit OFFSET :offset"
)
ACCOUNT_FOR_UPDATE_SQL = text("SELECT balance FROM points_pointsaccount WHERE user_id = :user FOR UPDATE")
PRODUCT_FOR_UPDATE_SQL = text(
    "SELECT points_cost, stock, is_active, name, image FROM catalog_product WHERE id = :product FOR UPDATE"
)
INSERT_ORDER_SQL = text(
    "INSERT INTO orders_order (id, user_id, product_id, quantity, unit_points_cost, points_used, "
    "balance_after, status, created_at, refunded_at, refunded_by_id, refund_reason) "
    "VALUES (:id, :user, :product, :quantity, :unit, :cost, :balance_after, 'delivered', :now, "
    "NULL, NULL, '')"
)
INSERT_LEDGER_SQL = text(
    "INSERT INTO points_pointstransaction (id, account_id, type, amount, balance_after, order_id, "
    "description, created_by_id, batch_id, created_at) "
    "VALUES (:id, :user, 'redeemed', :amount, :balance_after, :order, :description, :user, NULL, :now)"
)
DEBIT_SQL = text(
    "UPDATE points_pointsaccount SET balance = balance - :cost, total_redeemed = total_redeemed + :cost, "
    "updated_at = :now WHERE user_id = :user"
)
DECREMENT_SQL = text(
    "UPDATE catalog_product SET stock = stock - :quantity, updated_at = :now WHERE id = :product"
)
INSERT_MOVEMENT_SQL = text(
    "INSERT INTO catalog_stockmovement (id, product_id, delta, stock_after, reason, note, order_id, "
    "created_by_id, created_at) "
    "VALUES (:id, :product, :delta, :stock_after, 'order', '', :order, :user, :now)"
)
# The product's cached catalog pages are keyed by this token; it changes when stock reaches zero.
BUMP_CATALOG_VERSION_SQL = text("UPDATE catalog_catalogversion SET token = :token WHERE id = 1")


class NotRegistered(Exception):
    """A valid token whose `sub` is no active employee's."""


class Refusal(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


async def _employee(conn: Any, sub: str) -> Any:
    user = (await conn.execute(EMPLOYEE_SQL, {"sub": sub})).scalar_one_or_none()
    if user is None:
        raise NotRegistered(sub)
    return user


async def product_page(engine: AsyncEngine, *, sub: str, limit: int, offset: int) -> tuple[int, list[Any]]:
    """The active products' count and one page, for a registered employee (one pooled connection)."""
    async with engine.connect() as conn:
        await _employee(conn, sub)
        count = (await conn.execute(COUNT_SQL)).scalar_one()
        rows = (await conn.execute(PAGE_SQL, {"limit": limit, "offset": offset})).all()
    return int(count), list(rows)


@dataclass(frozen=True)
class Placed:
    id: uuid.UUID
    product_name: str
    product_image: str
    unit_points_cost: int
    points_used: int
    balance_after: int
    created_at: datetime


async def order_place(
    engine: AsyncEngine, dialect: Dialect, *, sub: str, product_id: uuid.UUID, quantity: int
) -> Placed:
    """One transaction: find the employee, lock the account, then the product; check; write.

    Raises NotRegistered or Refusal (nothing written).
    """
    now = datetime.now(UTC)
    now_param = dialect.now_param(now)
    product = dialect.uuid_param(product_id)
    async with engine.begin() as conn:
        user = await _employee(conn, sub)
        balance = (await conn.execute(ACCOUNT_FOR_UPDATE_SQL, {"user": user})).scalar_one()
        row = (await conn.execute(PRODUCT_FOR_UPDATE_SQL, {"product": product})).first()
        if row is None or not row.is_active:
            raise Refusal("product_unavailable", "This product is no longer available.")
        if row.stock < quantity:
            raise Refusal(
                "out_of_stock",
                f"Only {row.stock} left in stock." if row.stock else "This product is out of stock.",
            )
        cost = row.points_cost * quantity
        if balance < cost:
            raise Refusal(
                "insufficient_points", f"This order costs {cost} points and your balance is {balance}."
            )
        order_id = uuid.uuid4()
        order = dialect.uuid_param(order_id)
        balance_after = balance - cost
        await conn.execute(
            INSERT_ORDER_SQL,
            {
                "id": order,
                "user": user,
                "product": product,
                "quantity": quantity,
                "unit": row.points_cost,
                "cost": cost,
                "balance_after": balance_after,
                "now": now_param,
            },
        )
        await conn.execute(
            INSERT_LEDGER_SQL,
            {
                "id": dialect.uuid_param(uuid.uuid4()),
                "user": user,
                "amount": -cost,
                "balance_after": balance_after,
                "order": order,
                "description": f"Order: {quantity} x {row.name}"[:255],
                "now": now_param,
            },
        )
        await conn.execute(DEBIT_SQL, {"cost": cost, "now": now_param, "user": user})
        await conn.execute(DECREMENT_SQL, {"quantity": quantity, "now": now_param, "product": product})
        await conn.execute(
            INSERT_MOVEMENT_SQL,
            {
                "id": dialect.uuid_param(uuid.uuid4()),
                "product": product,
                "delta": -quantity,
                "stock_after": row.stock - quantity,
                "order": order,
                "user": user,
                "now": now_param,
            },
        )
        if row.stock == quantity:
            await conn.execute(BUMP_CATALOG_VERSION_SQL, {"token": uuid.uuid4().hex})
    return Placed(
        id=order_id,
        product_name=row.name,
        product_image=row.image,
        unit_points_cost=row.points_cost,
        points_used=cost,
        balance_after=balance_after,
        created_at=now,
    )
