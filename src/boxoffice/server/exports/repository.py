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
from boxoffice.server.customers.resources import USER_ROW_COLUMNS
from boxoffice.server.customers.tables import customer_tags, customers
from boxoffice.server.db.paging import Position, Window, keyset_select, positions_at
from boxoffice.server.orders.resources import ORDER_ROW_COLUMNS, SEAT_ROW_COLUMNS
from boxoffice.server.orders.tables import order_seats, orders
from boxoffice.server.values.rendering import optional_instant_renderer
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


# The database renders the orders export itself. An order's JSON is the same text orjson
# makes of its OrderExportResource (same keys in the same order, no whitespace, strings
# escaped by to_json / json_quote exactly as orjson escapes them, money with two decimals),
# built by one query whose rows the export only has to join: no order row, seat or amount
# passes through Python objects. The text stops after `"user":`; the caller appends the
# customer's serialized UserResource (or null) and the closing brace.
#
# Instants: PostgreSQL renders them itself in the transaction's TimeZone (see use_zone);
# SQLite, which knows no zones, calls back into Python's render_instant through the
# boxoffice_instant() function registered for the export (see stream_order_json).
# Every value in these templates is a column or a constant: no input reaches the SQL text.


def _pg_instant(micros: str) -> str:
    """`micros` (UTC microseconds, bigint) as render_instant's text, in the session's
    TimeZone: 2026-04-22T13:08:55+02:00, seconds floored as datetime.isoformat does."""
    ts = f"to_timestamp(({micros} - mod(mod({micros}, 1000000) + 1000000, 1000000)) / 1000000)"
    offset = f"extract(timezone FROM {ts})::int"
    # to_char's offset has no seconds; Python writes them when there are any (local mean time,
    # as in +00:19:32). Every zone's offset has been whole minutes since 1972-01-07 (Liberia),
    # so the check is made only for earlier instants (before 1973-01-01, in microseconds).
    seconds = (
        f"CASE WHEN {micros} < 94694400000000 AND mod({offset}, 60) <> 0"
        f" THEN ':' || lpad(mod(abs({offset}), 60)::text, 2, '0') ELSE '' END"
    )
    return f"""to_char({ts}, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM') || {seconds}"""


def _pg_money(cents: str) -> str:
    # bigint * numeric of scale 2 is a numeric of scale 2: 4900 -> 49.00, -50 -> -0.50.
    return f"({cents} * 0.01)"


def _pg_text(column: str) -> str:
    return f"coalesce(to_json({column})::text, 'null')"


def _pg_number(column: str) -> str:
    return f"coalesce({column}::text, 'null')"


def _pg_seat_json(*, removed: bool) -> str:
    """One seat's JSON (a SeatResource; with deletedAt when removed)."""
    s = "order_seats."
    text = (
        f"""'{{"seatId":' || {s}id || ',"eventId":' || {s}event_id"""
        f"""  || ',"rankId":' || {s}rank_id || ',"rowNr":' || {_pg_number(s + "row_nr")}"""
        f"""  || ',"seatNr":' || {_pg_number(s + "seat_nr")}"""
        f"""  || ',"amount":' || {_pg_money(s + "amount_cents")}"""
        f"""  || ',"priceId":' || {_pg_text(s + "price_id")}"""
        f"""  || ',"priceName":' || {_pg_text(s + "price_name")}"""
    )
    if removed:
        return text + f""" || ',"deletedAt":"' || {_pg_instant(s + "deleted_at")} || '"}}'"""
    return text + " || '}'"


def _pg_seats_json(*, removed: bool) -> str:
    where = "IS NOT NULL" if removed else "IS NULL"
    return (
        f"string_agg({_pg_seat_json(removed=removed)}, ',' ORDER BY order_seats.id)"
        f" FILTER (WHERE order_seats.deleted_at {where})"
    )


def _pg_order_json() -> str:
    o = "orders."
    return (
        f"""'{{"orderId":' || {o}id || ',"orderKey":' || {_pg_text(o + "order_key")}"""
        f"""  || ',"customerId":' || {_pg_number(o + "customer_id")}"""
        f"""  || ',"orderStatus":' || {_pg_text(o + "status")}"""
        f"""  || ',"orderPaymentStatus":' || {_pg_text(o + "payment_status")}"""
        f"""  || ',"orderChannel":' || {_pg_text(o + "channel")}"""
        f"""  || ',"orderDate":"' || {_pg_instant(o + "order_date_at")}"""
        f"""  || '","timeOut":' || coalesce('"' || {_pg_instant(o + "time_out_at")}"""
        """  || '"', 'null')"""
        f"""  || ',"lastChanged":"' || {_pg_instant(o + "last_changed_at")}"""
        f"""  || '","amount":' || {_pg_money(o + "amount_cents")}"""
        f"""  || ',"fee":' || {_pg_money(o + "fee_cents")}"""
        f"""  || ',"donation":' || {_pg_money(o + "donation_cents")}"""
        f"""  || ',"handlingTextPayment":' || {_pg_text(o + "handling_text")}"""
        f"""  || ',"discountName":' || {_pg_text(o + "discount_name")}"""
        """  || ',"seats":[' || coalesce(order_seats_json.current, '')"""
        """  || '],"deletedSeats":[' || coalesce(order_seats_json.removed, '')"""
        """  || '],"user":'"""
    )


# PostgreSQL: an order's seats, current and removed, as their JSON texts joined by commas
# (NULL when none), aggregated by a lateral subquery: one index lookup per order.
_PG_ORDER_SEATS_JSON = (
    select(
        literal_column(_pg_seats_json(removed=False)).label("current"),
        literal_column(_pg_seats_json(removed=True)).label("removed"),
    )
    .where(order_seats.c.order_id == orders.c.id, order_seats.c.tenant_id == orders.c.tenant_id)
    .lateral("order_seats_json")
)

# SQLite: one printf() per order and per seat, which costs less than chains of `||`. Money
# is a sign, whole units and two-digit cents in integer arithmetic (as values.money_text);
# strings go through json_quote (NULL -> null).
_SQLITE_MONEY = "%s%d.%02d"


def _sqlite_money_args(cents: str) -> str:
    return f"CASE WHEN {cents} < 0 THEN '-' ELSE '' END, abs({cents}) / 100, abs({cents}) % 100"


def _sqlite_number(column: str) -> str:
    return f"coalesce({column}, 'null')"


def _sqlite_seats_json(*, removed: bool) -> str:
    s = "order_seats."
    template = (
        '{"seatId":%d,"eventId":%d,"rankId":%d,"rowNr":%s,"seatNr":%s,'
        f'"amount":{_SQLITE_MONEY},"priceId":%s,"priceName":%s'
    )
    args = (
        f"{s}id, {s}event_id, {s}rank_id, {_sqlite_number(s + 'row_nr')},"
        f" {_sqlite_number(s + 'seat_nr')}, {_sqlite_money_args(s + 'amount_cents')},"
        f" json_quote({s}price_id), json_quote({s}price_name)"
    )
    if removed:
        template += ',"deletedAt":"%s"'
        args += f", boxoffice_instant({s}deleted_at)"
    where = "IS NOT NULL" if removed else "IS NULL"
    # group_concat joins in the order of its input: the subquery's, by seat id (an aggregate
    # over an ordered subquery keeps the subquery whole, ORDER BY included).
    return (
        f"(SELECT group_concat(seat, ',') FROM (SELECT printf('{template}}}', {args}) AS seat"
        " FROM order_seats WHERE order_seats.order_id = orders.id"
        f" AND order_seats.tenant_id = orders.tenant_id AND {s}deleted_at {where}"
        " ORDER BY order_seats.id))"
    )


def _sqlite_order_json() -> str:
    o = "orders."
    template = (
        '{"orderId":%d,"orderKey":%s,"customerId":%s,"orderStatus":%s,'
        '"orderPaymentStatus":%s,"orderChannel":%s,"orderDate":"%s","timeOut":%s,'
        f'"lastChanged":"%s","amount":{_SQLITE_MONEY},"fee":{_SQLITE_MONEY},'
        f'"donation":{_SQLITE_MONEY},"handlingTextPayment":%s,"discountName":%s,'
        '"seats":[%s],"deletedSeats":[%s],"user":'
    )
    args = (
        f"{o}id, json_quote({o}order_key), {_sqlite_number(o + 'customer_id')},"
        f" json_quote({o}status), json_quote({o}payment_status), json_quote({o}channel),"
        f" boxoffice_instant({o}order_date_at),"
        f""" coalesce('"' || boxoffice_instant({o}time_out_at) || '"', 'null'),"""
        f" boxoffice_instant({o}last_changed_at), {_sqlite_money_args(o + 'amount_cents')},"
        f" {_sqlite_money_args(o + 'fee_cents')}, {_sqlite_money_args(o + 'donation_cents')},"
        f" json_quote({o}handling_text), json_quote({o}discount_name),"
        f" coalesce({_sqlite_seats_json(removed=False)}, ''),"
        f" coalesce({_sqlite_seats_json(removed=True)}, '')"
    )
    return f"printf('{template}', {args})"


# A customer's text fields in the UserResource: its key, its column.
_USER_TEXT_FIELDS = (
    ("email", "email"),
    ("customerFirstName", "first_name"),
    ("customerLastName", "last_name"),
    ("customerSalutation", "salutation"),
    ("customerPreposition", "preposition"),
    ("customerAddress", "address"),
    ("customerHouseNr", "house_nr"),
    ("customerZip", "zip"),
    ("customerCity", "city"),
    ("customerCountry", "country"),
    ("customerPhone", "phone"),
)


def _pg_user_json() -> str:
    c = "customers."
    tags = (
        "(SELECT string_agg(to_json(customer_tags.name)::text, ','"
        ' ORDER BY customer_tags.name COLLATE "C") FROM customer_tags'
        " WHERE customer_tags.customer_id = customers.id"
        " AND customer_tags.tenant_id = customers.tenant_id)"
    )
    text = f"""'{{"customerId":' || {c}id"""
    for key, column in _USER_TEXT_FIELDS:
        text += f""" || ',"{key}":' || {_pg_text(c + column)}"""
    return (
        text + f""" || ',"customerCredit":' || {_pg_money(c + "credit_cents")}"""
        f""" || ',"clientTypes":[' || coalesce({tags}, '')"""
        f""" || '],"createdAt":"' || {_pg_instant(c + "created_at")}"""
        f""" || '","lastChanged":"' || {_pg_instant(c + "last_changed_at")} || '"}}'"""
    )


def _sqlite_user_json() -> str:
    c = "customers."
    template = (
        '{"customerId":%d,'
        + "".join(f'"{key}":%s,' for key, _column in _USER_TEXT_FIELDS)
        + f'"customerCredit":{_SQLITE_MONEY},"clientTypes":[%s],'
        '"createdAt":"%s","lastChanged":"%s"}'
    )
    texts = ", ".join(f"json_quote({c}{column})" for _key, column in _USER_TEXT_FIELDS)
    # BINARY collation: code point order, as Python's sorted().
    tags = (
        "(SELECT group_concat(tag, ',') FROM (SELECT json_quote(customer_tags.name) AS tag"
        " FROM customer_tags WHERE customer_tags.customer_id = customers.id"
        " AND customer_tags.tenant_id = customers.tenant_id ORDER BY customer_tags.name))"
    )
    return (
        f"printf('{template}', {c}id, {texts}, {_sqlite_money_args(c + 'credit_cents')},"
        f" coalesce({tags}, ''), boxoffice_instant({c}created_at),"
        f" boxoffice_instant({c}last_changed_at))"
    )


# A customer's UserResource as JSON, tags included (sorted by code point, as Python sorts).
_USER_JSON: dict[str, Label[str]] = {
    "postgresql": literal_column(_pg_user_json()).label("user_json"),
    "sqlite": literal_column(_sqlite_user_json()).label("user_json"),
}


_ORDER_JSON: dict[str, Label[str]] = {
    "postgresql": literal_column(_pg_order_json()).label("order_json"),
    "sqlite": literal_column(_sqlite_order_json()).label("order_json"),
}


def use_zone(conn: Connection, tz: ZoneInfo) -> bool:
    """Make the connection's transaction render instants in `tz` for the JSON queries here.

    PostgreSQL: `tz` becomes the transaction's TimeZone; False (and nothing changed) when
    PostgreSQL does not know the zone. SQLite: the connection gets boxoffice_instant(),
    Python's render_instant in `tz` (each export registers its own before its queries).
    """
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.create_function(  # type: ignore[union-attr]
            "boxoffice_instant", 1, optional_instant_renderer(tz), deterministic=True
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


def list_customer_json(conn: Connection, tenant_id: int, ids: Collection[int]) -> Sequence[Any]:
    """(id, JSON of its UserResource) of the client's customers with these ids, rendered by
    the database in the zone set by use_zone."""
    stmt = select(customers.c.id, _USER_JSON[conn.dialect.name]).where(
        customers.c.tenant_id + 0 == tenant_id, _one_of(conn, customers.c.id, ids)
    )
    return _tuples(conn, stmt)


def render_instants(conn: Connection, micros: Sequence[int]) -> list[str]:
    """PostgreSQL: these instants as the orders export's SQL renders them, in the TimeZone
    set by use_zone (to check PostgreSQL's zone rules against Python's)."""
    values = func.unnest(cast(bindparam("micros", list(micros)), ARRAY(BigInteger)))
    value = values.table_valued("value", with_ordinality="ordinal").render_derived()
    rendered: ColumnElement[str] = literal_column(_pg_instant("value"))
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
