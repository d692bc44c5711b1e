"""SQL of the exports. Every function is scoped by the client's tenant_id.

Each query selects only the columns the resources render and returns plain dicts (built
from tuples: as fast as row mappings to read, and what the resources' type asks for). A
batch of records costs one query for the batch and one for each kind of related row
(seats, customers, tags), never one per record.

Related rows are selected with `IN (<the batch's own keyset query>)` rather than with a list
of the batch's ids. The SQL text is then the same for every batch, so the drivers' prepared
statement caches hold a handful of statements instead of one per distinct list length
(on SQLite those cached IN-lists of 2000 parameters grew the server by tens of MiB), and no
ids travel back to the database. The subquery reads the same index range as the batch
itself, in the same snapshot, so it names exactly the batch's rows.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Select, Table, select

from boxoffice.server.catalog.tables import client_types
from boxoffice.server.customers.tables import customer_tags, customers
from boxoffice.server.db.paging import Position, Window, keyset_select, positions_at
from boxoffice.server.orders.resources import SEAT_ROW_COLUMNS
from boxoffice.server.orders.tables import order_seats, orders
from boxoffice.server.waitinglist.tables import waiting_list_entries

_CUSTOMER_COLUMNS = [
    customers.c[name]
    for name in (
        "id",
        "email",
        "first_name",
        "last_name",
        "salutation",
        "preposition",
        "address",
        "house_nr",
        "zip",
        "city",
        "country",
        "phone",
        "credit_cents",
        "created_at",
        "last_changed_at",
    )
]

_ORDER_COLUMNS = [
    orders.c[name]
    for name in (
        "id",
        "order_key",
        "customer_id",
        "status",
        "payment_status",
        "channel",
        "order_date_at",
        "time_out_at",
        "last_changed_at",
        "amount_cents",
        "fee_cents",
        "donation_cents",
        "handling_text",
        "discount_name",
    )
]

_WAITING_COLUMNS = [
    waiting_list_entries.c[name]
    for name in (
        "id",
        "customer_id",
        "event_id",
        "number_of_tickets",
        "type",
        "created_at",
        "notified_at",
        "last_changed_at",
    )
]

# In the order order_export_resource_of_seat_rows reads them.
_SEAT_COLUMNS = [order_seats.c[name] for name in SEAT_ROW_COLUMNS]

# The table each export reads, by export name; all three have the keyset index
# (tenant_id, last_changed_at, id).
EXPORT_TABLES: dict[str, Table] = {
    "customers": customers,
    "orders": orders,
    "waitinglist": waiting_list_entries,
}
_COLUMNS = {
    "customers": _CUSTOMER_COLUMNS,
    "orders": _ORDER_COLUMNS,
    "waitinglist": _WAITING_COLUMNS,
}


def list_client_types(conn: Connection, *, tenant_id: int) -> list[str]:
    stmt = select(client_types.c.name).where(client_types.c.tenant_id == tenant_id)
    return [name for (name,) in conn.execute(stmt)]


@dataclass(frozen=True, slots=True)
class Batch:
    """One batch of an export: the first `size` rows of `window` in the export's table."""

    export: str
    tenant_id: int
    window: Window
    size: int

    def select(self, *columns: Column[Any]) -> Select[Any]:
        table = EXPORT_TABLES[self.export]
        return keyset_select(table, columns, tenant_id=self.tenant_id, window=self.window).limit(
            self.size
        )

    def column(self, name: str) -> Select[Any]:
        """The batch's values of one column, as a subquery for IN (...)."""
        return self.select(EXPORT_TABLES[self.export].c[name])


def _tuples(conn: Connection, stmt: Select[Any]) -> Sequence[Any]:
    """The statement's rows as the driver's own tuples, fetched in one call.

    The statement runs as usual (compiled-statement cache, events, the snapshot's
    connection), but its rows are taken straight from the DBAPI cursor: a Result would
    build a Row for every one of the millions of rows an export reads, which costs as much
    as the query itself. Every column read here is an integer or text: no type processing.
    """
    result = conn.execute(stmt)
    try:
        cursor = result.cursor
        rows: Sequence[Any] = cursor.fetchall() if cursor is not None else []
    finally:
        result.close()
    return rows


def _dicts(
    conn: Connection, stmt: Select[Any], columns: Sequence[Column[Any]]
) -> list[dict[str, Any]]:
    keys = [column.name for column in columns]
    # The select names exactly these columns, so zip() needs no strict check (a third faster).
    return [dict(zip(keys, row)) for row in _tuples(conn, stmt)]  # noqa: B905


def list_batch(conn: Connection, batch: Batch) -> list[dict[str, Any]]:
    """The batch's rows, in (last_changed_at, id) order."""
    columns = _COLUMNS[batch.export]
    return _dicts(conn, batch.select(*columns), columns)


def list_customers_of(conn: Connection, batch: Batch, column: str) -> dict[int, dict[str, Any]]:
    """The customers named in `column` of the batch's rows, by id."""
    # `tenant_id + 0` keeps the scoping but not as an index term: otherwise SQLite, knowing no
    # statistics, scans the client's every customer by the (tenant_id, ...) index instead of
    # looking the batch's customers up by primary key (three times slower per batch).
    stmt = select(*_CUSTOMER_COLUMNS).where(
        customers.c.tenant_id + 0 == batch.tenant_id, customers.c.id.in_(batch.column(column))
    )
    return {row["id"]: row for row in _dicts(conn, stmt, _CUSTOMER_COLUMNS)}


def list_tags_of(conn: Connection, batch: Batch, column: str) -> dict[int, list[str]]:
    """Tag names per customer named in `column` of the batch (customers without tags absent)."""
    stmt = select(customer_tags.c.customer_id, customer_tags.c.name).where(
        customer_tags.c.tenant_id == batch.tenant_id,
        customer_tags.c.customer_id.in_(batch.column(column)),
    )
    tags: dict[int, list[str]] = defaultdict(list)
    for customer_id, name in _tuples(conn, stmt):
        tags[customer_id].append(name)
    return tags


def list_seats_of(conn: Connection, batch: Batch) -> dict[int, list[Any]]:
    """All seats (current and removed) of the batch's orders, per order id, in seat id order:
    tuples of SEAT_ROW_COLUMNS."""
    stmt = (
        select(*_SEAT_COLUMNS)
        .where(
            order_seats.c.tenant_id == batch.tenant_id,
            order_seats.c.order_id.in_(batch.column("id")),
        )
        .order_by(order_seats.c.order_id, order_seats.c.id)
    )
    seats: dict[int, list[Any]] = defaultdict(list)
    for seat in _tuples(conn, stmt):
        seats[seat[0]].append(seat)
    return seats


def find_page_end(
    conn: Connection, export: str, *, tenant_id: int, window: Window, limit: int
) -> Position | None:
    """The position of the window's `limit`-th row when at least one more row follows it.

    None means the window holds at most `limit` rows, so a page of `limit` is the last.
    """
    found = positions_at(
        conn, EXPORT_TABLES[export], tenant_id=tenant_id, window=window, offset=limit - 1
    )
    return found[0] if len(found) == 2 else None
