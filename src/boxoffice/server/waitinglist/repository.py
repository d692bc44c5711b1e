"""SQL for waiting-list entries. Every function takes a keyword-only tenant_id."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, RowMapping, insert

from boxoffice.server.db.changes import advanced
from boxoffice.server.db.scoping import scoped_select, scoped_update
from boxoffice.server.waitinglist.tables import waiting_list_entries as entries

ACTIVE_TYPES = ("waiting", "notified")


def insert_entry(
    conn: Connection,
    *,
    tenant_id: int,
    customer_id: int,
    event_id: int,
    number_of_tickets: int,
    now: int,
) -> int:
    stmt = (
        insert(entries)
        .values(
            tenant_id=tenant_id,
            customer_id=customer_id,
            event_id=event_id,
            number_of_tickets=number_of_tickets,
            type="waiting",
            created_at=now,
            notified_at=None,
            last_changed_at=now,
        )
        .returning(entries.c.id)
    )
    return int(conn.execute(stmt).scalar_one())


def get_entry(
    conn: Connection, *, tenant_id: int, waiting_id: int, lock: bool = False
) -> RowMapping | None:
    stmt = scoped_select(entries, tenant_id=tenant_id).where(entries.c.id == waiting_id)
    if lock:
        stmt = stmt.with_for_update()
    return conn.execute(stmt).mappings().first()


def get_active_entry(
    conn: Connection, *, tenant_id: int, customer_id: int, event_id: int
) -> RowMapping | None:
    """The customer's entry for the event that is still waiting or notified, if any."""
    stmt = scoped_select(entries, tenant_id=tenant_id).where(
        entries.c.customer_id == customer_id,
        entries.c.event_id == event_id,
        entries.c.type.in_(ACTIVE_TYPES),
    )
    return conn.execute(stmt).mappings().first()


def list_entries(conn: Connection, *, tenant_id: int, event_id: int | None) -> list[RowMapping]:
    """Entries in queue order (first come, first served), of one event or all events."""
    stmt = scoped_select(entries, tenant_id=tenant_id)
    if event_id is not None:
        stmt = stmt.where(entries.c.event_id == event_id)
    stmt = stmt.order_by(entries.c.event_id, entries.c.created_at, entries.c.id)
    return list(conn.execute(stmt).mappings())


def update_entry(
    conn: Connection, *, tenant_id: int, waiting_id: int, values: Mapping[str, Any], now: int
) -> None:
    conn.execute(
        scoped_update(entries, tenant_id=tenant_id)
        .where(entries.c.id == waiting_id)
        .values(last_changed_at=advanced(entries.c.last_changed_at, now), **values)
    )
