"""SQL of the exports. Every function is scoped by the client's tenant_id.

An export's own rows (customers, orders, waiting-list entries) are one keyset-ordered
query over the export's window, fetched a batch at a time. A batch's related rows (seats,
customers, tags) cost one query per kind, never one per record, selected by the batch's
ids passed as a single bound value (see `_one_of`). Rows are the drivers' plain tuples, in
the column order the resources' `*_of_row` functions read them.
"""

from collections import defaultdict
from collections.abc import Collection, Generator, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Select,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    func,
    select,
)

from boxoffice.server.catalog.tables import client_types
from boxoffice.server.customers.resources import USER_ROW_COLUMNS
from boxoffice.server.customers.tables import customer_tags, customers
from boxoffice.server.db.paging import Position, Window, keyset_select, positions_at
from boxoffice.server.orders.resources import ORDER_ROW_COLUMNS, SEAT_ROW_COLUMNS
from boxoffice.server.orders.tables import order_seats, orders
from boxoffice.server.waitinglist.resources import WAITING_ROW_COLUMNS
from boxoffice.server.waitinglist.tables import waiting_list_entries

# The table each export reads, by export name; all three have the keyset index
# (tenant_id, last_changed_at, id).
EXPORT_TABLES: dict[str, Table] = {
    "customers": customers,
    "orders": orders,
    "waitinglist": waiting_list_entries,
}
# The columns of each export's rows, in the order its resources' *_of_row functions read them.
ROW_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": USER_ROW_COLUMNS,
    "orders": ORDER_ROW_COLUMNS,
    "waitinglist": WAITING_ROW_COLUMNS,
}
_COLUMNS = {
    export: [EXPORT_TABLES[export].c[name] for name in names]
    for export, names in ROW_COLUMNS.items()
}
_CUSTOMER_COLUMNS = _COLUMNS["customers"]
_SEAT_COLUMNS = [order_seats.c[name] for name in SEAT_ROW_COLUMNS]


def list_client_types(conn: Connection, *, tenant_id: int) -> list[str]:
    stmt = select(client_types.c.name).where(client_types.c.tenant_id == tenant_id)
    return [name for (name,) in conn.execute(stmt)]


def stream_rows(
    conn: Connection, export: str, *, tenant_id: int, window: Window, size: int
) -> Generator[Sequence[Any], None, None]:
    """The window's rows, `size` at a time, in ROW_COLUMNS order (SQLAlchemy Rows, which
    unpack and index like tuples), in (last_changed_at, id) order.

    One query reads the whole window, and its rows are fetched batch by batch as the
    export goes: through a server-side cursor on PostgreSQL, a statement stepped row by row
    on SQLite. Related rows are read between two fetches on the same connection, in the
    same snapshot.
    """
    table = EXPORT_TABLES[export]
    stmt = keyset_select(table, _COLUMNS[export], tenant_id=tenant_id, window=window)
    # yield_per: a server-side cursor on PostgreSQL, `size` rows per fetch on both.
    result = conn.execute(stmt.execution_options(yield_per=size))
    try:
        yield from result.partitions()
    finally:
        result.close()


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


def _one_of(conn: Connection, column: Column[Any], ids: Collection[int]) -> ColumnElement[bool]:
    """`column` is one of `ids`, with the ids in a single bound value.

    One value rather than one parameter per id keeps the SQL text the same for every
    batch, so the drivers' prepared-statement caches hold one statement instead of one per
    distinct list length (on SQLite those cached IN-lists of 2,000 parameters grew the
    server by tens of MiB): an array on PostgreSQL (`= ANY(...)`, one index scan in key
    order), a JSON array read by json_each on SQLite.
    """
    if conn.dialect.name == "postgresql":
        # As the text of an array literal: psycopg would adapt a list of ints element by
        # element in Python, which costs more than the query.
        literal = "{" + ",".join(map(str, ids)) + "}"
        return column == any_(cast(bindparam("ids", literal, type_=Text), ARRAY(BigInteger)))
    values = func.json_each(bindparam("ids", orjson.dumps(list(ids)).decode()))
    return column.in_(select(values.table_valued("value").c.value))


def list_customers(conn: Connection, tenant_id: int, ids: Collection[int]) -> Sequence[Any]:
    """The client's customers with these ids, as tuples in USER_ROW_COLUMNS order."""
    # `tenant_id + 0` keeps the scoping but not as an index term: otherwise SQLite, knowing no
    # statistics, may scan the client's every customer by the (tenant_id, ...) index instead
    # of looking the customers up by primary key.
    stmt = select(*_CUSTOMER_COLUMNS).where(
        customers.c.tenant_id + 0 == tenant_id, _one_of(conn, customers.c.id, ids)
    )
    return _tuples(conn, stmt)


def list_tags(conn: Connection, tenant_id: int, ids: Collection[int]) -> dict[int, list[str]]:
    """Tag names of these customers of the client (customers without tags absent)."""
    stmt = select(customer_tags.c.customer_id, customer_tags.c.name).where(
        customer_tags.c.tenant_id == tenant_id, _one_of(conn, customer_tags.c.customer_id, ids)
    )
    tags: dict[int, list[str]] = defaultdict(list)
    for customer_id, name in _tuples(conn, stmt):
        tags[customer_id].append(name)
    return tags


def list_seats(
    conn: Connection, tenant_id: int, order_ids: Collection[int]
) -> dict[int, list[Any]]:
    """All seats (current and removed) of these orders of the client, per order id, in seat
    id order: tuples in SEAT_ROW_COLUMNS order."""
    stmt = (
        select(*_SEAT_COLUMNS)
        .where(
            order_seats.c.tenant_id + 0 == tenant_id,
            _one_of(conn, order_seats.c.order_id, order_ids),
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
