"""SQL for order payments. Every function takes a keyword-only tenant_id."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, RowMapping, insert

from boxoffice.server.db.scoping import first_row, scoped_select, scoped_update
from boxoffice.server.payments.tables import order_payments


def insert_payment(
    conn: Connection, *, tenant_id: int, values: Mapping[str, Any], now: int
) -> None:
    conn.execute(insert(order_payments).values(tenant_id=tenant_id, created_at=now, **values))


def get_payment_by_key_hash(
    conn: Connection, *, tenant_id: int, key_hash: str, lock: bool = False
) -> RowMapping | None:
    where = order_payments.c.order_key_hash == key_hash
    return first_row(conn, order_payments, where, tenant_id=tenant_id, lock=lock)


def update_payment(
    conn: Connection, *, tenant_id: int, payment_id: int, values: Mapping[str, Any]
) -> None:
    conn.execute(
        scoped_update(order_payments, tenant_id=tenant_id)
        .where(order_payments.c.id == payment_id)
        .values(**values)
    )


def lock_expired_payments(
    conn: Connection, *, tenant_id: int, now: int, limit: int
) -> list[RowMapping]:
    """Open payments whose reservation has run out, oldest first, row-locked (skipping
    rows another transaction is settling right now)."""
    stmt = (
        scoped_select(order_payments, tenant_id=tenant_id)
        .where(
            order_payments.c.state == "open",
            order_payments.c.expires_at.is_not(None),
            order_payments.c.expires_at <= now,
        )
        .order_by(order_payments.c.expires_at, order_payments.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(conn.execute(stmt).mappings())
