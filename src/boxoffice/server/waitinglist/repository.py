"""SQL for waiting-list entries. Every function takes a keyword-only tenant_id."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, RowMapping

from boxoffice.server.db.changes import changed
from boxoffice.server.db.scoping import all_rows, first_row, insert_row
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
    return insert_row(
        conn,
        entries,
        tenant_id=tenant_id,
        customer_id=customer_id,
        event_id=event_id,
        number_of_tickets=number_of_tickets,
        type="waiting",
        created_at=now,
        notified_at=None,
        last_changed_at=now,
    )


def get_entry(
    conn: Connection, *, tenant_id: int, waiting_id: int, lock: bool = False
) -> RowMapping | None:
    return first_row(conn, entries, entries.c.id == waiting_id, tenant_id=tenant_id, lock=lock)


def get_active_entry(
    conn: Connection, *, tenant_id: int, customer_id: int, event_id: int
) -> RowMapping | None:
    """The customer's entry for the event that is still waiting or notified, if any."""
    return first_row(
        conn,
        entries,
        entries.c.customer_id == customer_id,
        entries.c.event_id == event_id,
        entries.c.type.in_(ACTIVE_TYPES),
        tenant_id=tenant_id,
    )


def list_entries(conn: Connection, *, tenant_id: int, event_id: int | None) -> list[RowMapping]:
    """Entries in queue order (first come, first served), of one event or all events."""
    where = () if event_id is None else (entries.c.event_id == event_id,)
    order = (entries.c.event_id, entries.c.created_at, entries.c.id)
    return all_rows(conn, entries, *where, tenant_id=tenant_id, order_by=order)


def update_entry(
    conn: Connection, *, tenant_id: int, waiting_id: int, values: Mapping[str, Any], now: int
) -> None:
    where = entries.c.id == waiting_id
    conn.execute(changed(entries, where, tenant_id=tenant_id, now=now, **values))
