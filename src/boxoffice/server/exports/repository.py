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
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Label,
    Select,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.exc import DBAPIError

from boxoffice.server.catalog.tables import client_types
from boxoffice.server.customers.resources import USER, USER_ROW_COLUMNS
from boxoffice.server.customers.tables import customer_tags, customers
from boxoffice.server.db.paging import Position, Window, keyset_select, positions_at
from boxoffice.server.db.scoping import per_tenant, same_tenant, scoped_select
from boxoffice.server.db.transactions import run_one
from boxoffice.server.exports.json_sql import Part, Raw, Value, json_sql, pg_instant
from boxoffice.server.orders.resources import (
    ORDER_EXPORT,
    ORDER_ROW_COLUMNS,
    SEAT,
    SEAT_ROW_COLUMNS,
)
from boxoffice.server.orders.tables import order_seats, orders
from boxoffice.server.values.rendering import instant_renderer
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


@per_tenant
def _client_type_names(tenant_id: int) -> Select[Any]:
    return scoped_select(client_types, client_types.c.name, tenant_id=tenant_id)


def list_client_types(conn: Connection, *, tenant_id: int) -> list[str]:
    # On the driver (run_one), as the hot path's statements: a Connection's execute costs
    # a third of this read's CPU on PostgreSQL (py-spy).
    return [row["name"] for row in run_one(conn, _client_type_names(tenant_id), {})]


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


def list_customers(conn: Connection, *, tenant_id: int, ids: Collection[int]) -> Sequence[Any]:
    """The client's customers with these ids, as tuples in USER_ROW_COLUMNS order."""
    # `tenant_id + 0` keeps the scoping but not as an index term: otherwise SQLite, knowing no
    # statistics, may scan the client's every customer by the (tenant_id, ...) index instead
    # of looking the customers up by primary key.
    stmt = scoped_select(customers, *_CUSTOMER_COLUMNS, tenant_id=tenant_id, use_index=False)
    stmt = stmt.where(_one_of(conn, customers.c.id, ids))
    return _tuples(conn, stmt)


def list_tags(conn: Connection, *, tenant_id: int, ids: Collection[int]) -> dict[int, list[str]]:
    """Tag names of these customers of the client (customers without tags absent)."""
    stmt = scoped_select(
        customer_tags, customer_tags.c.customer_id, customer_tags.c.name, tenant_id=tenant_id
    ).where(_one_of(conn, customer_tags.c.customer_id, ids))
    tags: dict[int, list[str]] = defaultdict(list)
    for customer_id, name in _tuples(conn, stmt):
        tags[customer_id].append(name)
    return tags


def list_seats(
    conn: Connection, *, tenant_id: int, order_ids: Collection[int]
) -> dict[int, list[Any]]:
    """All seats (current and removed) of these orders of the client, per order id, in seat
    id order: tuples in SEAT_ROW_COLUMNS order."""
    stmt = (
        scoped_select(order_seats, *_SEAT_COLUMNS, tenant_id=tenant_id, use_index=False)
        .where(_one_of(conn, order_seats.c.order_id, order_ids))
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


# The database renders the orders export itself. An order's JSON is the same text orjson
# makes of its OrderExportResource, made from the same field tables (see json_sql), built by
# one query whose rows the export only has to join: no order row, seat or amount passes
# through Python objects. The text stops after `"user":`; the caller appends the customer's
# serialized UserResource (or null) and the closing brace. The SQL is made once, here.

_CURRENT, _REMOVED = "order_seats.deleted_at IS NULL", "order_seats.deleted_at IS NOT NULL"


def _list(sql: str) -> list[Part]:
    """A JSON array of the texts that `sql` joins with commas (NULL when there are none)."""
    return [Raw("["), Value(f"coalesce({sql}, '')"), Raw("]")]


def _pg_seats(where: str) -> str:
    """PostgreSQL: the JSON of an order's seats (current or removed) joined by commas."""
    seat = json_sql(SEAT, "postgresql", "order_seats", {}, only_if_set=where == _REMOVED)
    return f"string_agg({seat}, ',' ORDER BY order_seats.id) FILTER (WHERE {where})"


# PostgreSQL: an order's seats, current and removed, as their JSON texts joined by commas
# (NULL when none), aggregated by a lateral subquery: one index lookup per order.
_PG_ORDER_SEATS_JSON = (
    select(
        literal_column(_pg_seats(_CURRENT)).label("current"),
        literal_column(_pg_seats(_REMOVED)).label("removed"),
    )
    .where(order_seats.c.order_id == orders.c.id, same_tenant(order_seats, orders))
    .lateral("order_seats_json")
)


def _sqlite_seats(where: str) -> str:
    """SQLite: the JSON of an order's seats (current or removed) joined by commas."""
    seat = json_sql(SEAT, "sqlite", "order_seats", {}, only_if_set=where == _REMOVED)
    # group_concat joins in the order of its input: the subquery's, by seat id (an aggregate
    # over an ordered subquery keeps the subquery whole, ORDER BY included).
    return (
        f"(SELECT group_concat(seat, ',') FROM (SELECT {seat} AS seat"
        " FROM order_seats WHERE order_seats.order_id = orders.id"
        f" AND order_seats.tenant_id = orders.tenant_id AND {where} ORDER BY order_seats.id))"
    )


_ORDER_SEATS: dict[str, dict[str, list[Part]]] = {
    "postgresql": {
        "seats": _list("order_seats_json.current"),
        "deletedSeats": _list("order_seats_json.removed"),
    },
    "sqlite": {
        "seats": _list(_sqlite_seats(_CURRENT)),
        "deletedSeats": _list(_sqlite_seats(_REMOVED)),
    },
}

# A customer's tag names as JSON strings joined by commas, sorted by code point as Python's
# sorted() sorts them (PostgreSQL: the "C" collation; SQLite: its BINARY collation).
_TAGS = {
    "postgresql": (
        "(SELECT string_agg(to_json(customer_tags.name)::text, ','"
        ' ORDER BY customer_tags.name COLLATE "C") FROM customer_tags'
        " WHERE customer_tags.customer_id = customers.id"
        " AND customer_tags.tenant_id = customers.tenant_id)"
    ),
    "sqlite": (
        "(SELECT group_concat(tag, ',') FROM (SELECT json_quote(customer_tags.name) AS tag"
        " FROM customer_tags WHERE customer_tags.customer_id = customers.id"
        " AND customer_tags.tenant_id = customers.tenant_id ORDER BY customer_tags.name))"
    ),
}

# A customer's UserResource as JSON, tags included.
_USER_JSON: dict[str, Label[str]] = {
    dialect: literal_column(
        json_sql(USER, dialect, "customers", {"clientTypes": _list(_TAGS[dialect])})
    ).label("user_json")
    for dialect in ("postgresql", "sqlite")
}

# An order's OrderExportResource as JSON, up to `"user":`.
_ORDER_JSON: dict[str, Label[str]] = {
    dialect: literal_column(
        json_sql(ORDER_EXPORT, dialect, "orders", _ORDER_SEATS[dialect], open_at="user")
    ).label("order_json")
    for dialect in ("postgresql", "sqlite")
}


def use_zone(conn: Connection, tz: ZoneInfo) -> bool:
    """Make the connection's transaction render instants in `tz` for the JSON queries here.

    PostgreSQL: `tz` becomes the transaction's TimeZone; False (and nothing changed) when
    PostgreSQL does not know the zone. SQLite: the connection gets boxoffice_instant(),
    Python's render_instant in `tz` (each export registers its own before its queries).
    """
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.create_function(  # type: ignore[union-attr]
            "boxoffice_instant", 1, instant_renderer(tz), deterministic=True
        )
        return True
    conn.exec_driver_sql("SAVEPOINT export_zone")
    try:
        conn.execute(select(func.set_config("TimeZone", tz.key, True)))
    except DBAPIError:
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT export_zone")
        return False
    finally:
        conn.exec_driver_sql("RELEASE SAVEPOINT export_zone")
    return True


def list_customer_json(conn: Connection, *, tenant_id: int, ids: Collection[int]) -> Sequence[Any]:
    """(id, JSON of its UserResource) of the client's customers with these ids, rendered by
    the database in the zone set by use_zone."""
    stmt = scoped_select(
        customers,
        customers.c.id,
        _USER_JSON[conn.dialect.name],
        tenant_id=tenant_id,
        use_index=False,
    ).where(_one_of(conn, customers.c.id, ids))
    return _tuples(conn, stmt)


def render_instants(conn: Connection, micros: Sequence[int]) -> list[str]:
    """PostgreSQL: these instants as the orders export's SQL renders them, in the TimeZone
    set by use_zone (to check PostgreSQL's zone rules against Python's)."""
    values = func.unnest(cast(bindparam("micros", list(micros)), ARRAY(BigInteger)))
    value = values.table_valued("value", with_ordinality="ordinal").render_derived()
    rendered: ColumnElement[str] = literal_column(pg_instant("value"))
    stmt: Select[Any] = select(rendered).select_from(value).order_by(value.c.ordinal)
    return [text for (text,) in conn.execute(stmt)]


def stream_order_json(
    conn: Connection, *, tenant_id: int, window: Window, size: int
) -> Generator[Sequence[Any], None, None]:
    """The window's orders, `size` at a time in (last_changed_at, id) order, as
    (customer_id, JSON of the OrderExportResource up to `"user":`) rows (SQLAlchemy Rows,
    which unpack like tuples), rendered in the zone set by use_zone.

    One query, fetched batch by batch (a server-side cursor on PostgreSQL).
    """
    dialect = conn.dialect.name
    stmt = keyset_select(
        orders, [orders.c.customer_id, _ORDER_JSON[dialect]], tenant_id=tenant_id, window=window
    )
    if dialect == "postgresql":
        stmt = stmt.select_from(orders.outerjoin(_PG_ORDER_SEATS_JSON, true()))
        # The query's estimated cost makes PostgreSQL compile its expressions (JIT) first:
        # some 0.4 s before the first row, for an export no faster, and longer in all.
        conn.execute(select(func.set_config("jit", "off", True)))
    result = conn.execute(stmt.execution_options(yield_per=size))
    try:
        yield from result.partitions()
    finally:
        result.close()
