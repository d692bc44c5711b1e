"""The floor: the export bytes made in one process, without HTTP or a web framework.

The same records and the same JSON as `POST /export/<dataset>` (a JSON array, ascending
(last_changed_at, id)), read with a raw DB-API cursor (sqlite3 or psycopg), by two routes:

- IN_DATABASE, the floor: the database's own functions render the records (PostgreSQL:
  to_json, to_char, string_agg; SQLite: printf, json_quote, group_concat, instants through a
  Python function), the customers once each, up front; for the waiting list, the entries by
  orjson and only the customers they name by the database;
- DATASETS, for reference: orjson renders every record; each customer once, reused as a
  pre-serialized fragment; instants from an offset table per UTC hour of the client's zone.

The database's route is the faster on both databases for all three exports (bench.py times
both, side by side, in every run). Both are written for the floor on their own, not taken
from the server, and bench.py checks that their bytes hash the same as each other and as the
server's response before it compares any throughput with them.
"""

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import psycopg

BATCH = 5000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MMSS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]


class Instants:
    """Micros -> `2026-04-22T13:08:55+02:00` in one zone, with a cache per UTC hour."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.hours: dict[int, tuple[str, str] | None] = {}

    def slow(self, micros: int) -> str:
        return (
            (EPOCH + timedelta(microseconds=micros)).astimezone(self.tz).isoformat("T", "seconds")
        )

    def hour(self, hour: int) -> tuple[str, str] | None:
        start = (EPOCH + timedelta(hours=hour)).astimezone(self.tz)
        end = (EPOCH + timedelta(hours=hour + 1, microseconds=-1)).astimezone(self.tz)
        offset = start.utcoffset()
        if offset != end.utcoffset() or offset is None or offset.total_seconds() % 3600:
            entry = None
        else:
            text = start.isoformat("T", "seconds")
            entry = (text[:14], text[19:])
        self.hours[hour] = entry
        return entry

    def __call__(self, micros: int | None) -> str | None:
        if micros is None:
            return None
        seconds = micros // 1_000_000
        hour = seconds // 3600
        entry = self.hours.get(hour, False)
        if entry is False:
            entry = self.hour(hour)
        if entry is None:
            return self.slow(micros)
        return entry[0] + _MMSS[seconds - hour * 3600] + entry[1]  # type: ignore[index]


_money: dict[int, orjson.Fragment] = {}


def money(cents: int) -> orjson.Fragment:
    found = _money.get(cents)
    if found is None:
        sign = "-" if cents < 0 else ""
        whole, part = divmod(abs(cents), 100)
        found = _money[cents] = orjson.Fragment(f"{sign}{whole}.{part:02d}".encode())
    return found


class Source:
    """A raw cursor on the bench database: sqlite3 or psycopg."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite"):
            self.conn: Any = sqlite3.connect(url.split("///", 1)[1])
            self.mark = "?"
        else:
            self.conn = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
            self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            self.mark = "%s"

    def rows(self, sql: str, *params: Any) -> list[Any]:
        cur = self.conn.cursor()
        cur.execute(sql.replace("?", self.mark), params)
        return cur.fetchall()  # type: ignore[no-any-return]

    def batches(self, sql: str, *params: Any) -> Iterator[list[Any]]:
        cur = self.conn.cursor()
        cur.execute(sql.replace("?", self.mark), params)
        while rows := cur.fetchmany(BATCH):
            yield rows

    def close(self) -> None:
        self.conn.close()


def _tags(src: Source, tenant_id: int) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = defaultdict(list)
    for cid, name in src.rows(
        "SELECT customer_id, name FROM customer_tags WHERE tenant_id = ?", tenant_id
    ):
        tags[cid].append(name)
    return tags


_CUSTOMER_SQL = (
    "SELECT id, email, first_name, last_name, salutation, preposition, address, house_nr,"
    " zip, city, country, phone, credit_cents, created_at, last_changed_at FROM customers"
    " WHERE tenant_id = ?"
)


def _user(row: Any, tags: dict[int, list[str]], at: Instants) -> dict[str, Any]:
    return {
        "customerId": row[0],
        "email": row[1],
        "customerFirstName": row[2],
        "customerLastName": row[3],
        "customerSalutation": row[4],
        "customerPreposition": row[5],
        "customerAddress": row[6],
        "customerHouseNr": row[7],
        "customerZip": row[8],
        "customerCity": row[9],
        "customerCountry": row[10],
        "customerPhone": row[11],
        "customerCredit": money(row[12]),
        "clientTypes": sorted(tags.get(row[0], ())),
        "createdAt": at(row[13]),
        "lastChanged": at(row[14]),
    }


def _users(src: Source, tenant_id: int, at: Instants) -> dict[int, orjson.Fragment]:
    tags = _tags(src, tenant_id)
    return {
        row[0]: orjson.Fragment(orjson.dumps(_user(row, tags, at)))
        for row in src.rows(_CUSTOMER_SQL, tenant_id)
    }


def _array(batches: Iterator[list[Any]]) -> Iterator[bytes]:
    first = True
    for records in batches:
        body = orjson.dumps(records)[1:-1]
        yield (b"[" + body) if first else (b"," + body)
        first = False
    yield b"[]" if first else b"]"


def customers(src: Source, tenant_id: int, tz: ZoneInfo) -> Iterator[bytes]:
    at = Instants(tz)
    tags = _tags(src, tenant_id)
    sql = _CUSTOMER_SQL + " ORDER BY last_changed_at, id"
    yield from _array(
        [_user(row, tags, at) for row in rows] for rows in src.batches(sql, tenant_id)
    )


class _LazyUsers(dict[int, orjson.Fragment | None]):
    """Customers rendered on first use (a waiting list names only some of them)."""

    def __init__(self, src: Source, tenant_id: int, at: Instants) -> None:
        super().__init__()
        self.tags = _tags(src, tenant_id)
        self.rows = {row[0]: row for row in src.rows(_CUSTOMER_SQL, tenant_id)}
        self.at = at

    def __missing__(self, cid: int) -> orjson.Fragment | None:
        row = self.rows.get(cid)
        user = (
            None if row is None else orjson.Fragment(orjson.dumps(_user(row, self.tags, self.at)))
        )
        self[cid] = user
        return user


def waitinglist(src: Source, tenant_id: int, tz: ZoneInfo) -> Iterator[bytes]:
    at = Instants(tz)
    yield from _waiting_entries(src, tenant_id, at, _LazyUsers(src, tenant_id, at))


def _waiting_entries(
    src: Source, tenant_id: int, at: Instants, users: dict[int, Any]
) -> Iterator[bytes]:
    sql = (
        "SELECT id, customer_id, event_id, number_of_tickets, type, created_at, notified_at,"
        " last_changed_at FROM waiting_list_entries WHERE tenant_id = ?"
        " ORDER BY last_changed_at, id"
    )
    yield from _array(
        [
            {
                "waitingId": r[0],
                "customerId": r[1],
                "eventId": r[2],
                "numberOfTickets": r[3],
                "type": r[4],
                "createdAt": at(r[5]),
                "notifiedAt": at(r[6]),
                "lastChanged": at(r[7]),
                "user": users[r[1]],
            }
            for r in rows
        ]
        for rows in src.batches(sql, tenant_id)
    )


def orders(src: Source, tenant_id: int, tz: ZoneInfo) -> Iterator[bytes]:
    at = Instants(tz)
    users = _users(src, tenant_id, at)
    seats: dict[int, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for s in src.rows(
        "SELECT order_id, id, event_id, rank_id, row_nr, seat_nr, amount_cents, price_id,"
        " price_name, deleted_at FROM order_seats WHERE tenant_id = ? ORDER BY order_id, id",
        tenant_id,
    ):
        pair = seats.get(s[0])
        if pair is None:
            pair = seats[s[0]] = ([], [])
        seat = {
            "seatId": s[1],
            "eventId": s[2],
            "rankId": s[3],
            "rowNr": s[4],
            "seatNr": s[5],
            "amount": money(s[6]),
            "priceId": s[7],
            "priceName": s[8],
        }
        if s[9] is None:
            pair[0].append(seat)
        else:
            seat["deletedAt"] = at(s[9])
            pair[1].append(seat)
    none: tuple[list[Any], list[Any]] = ([], [])
    sql = (
        "SELECT id, order_key, customer_id, status, payment_status, channel, order_date_at,"
        " time_out_at, last_changed_at, amount_cents, fee_cents, donation_cents, handling_text,"
        " discount_name FROM orders WHERE tenant_id = ? ORDER BY last_changed_at, id"
    )

    def render(rows: list[Any]) -> list[dict[str, Any]]:
        out = []
        for r in rows:
            current, deleted = seats.get(r[0], none)
            out.append(
                {
                    "orderId": r[0],
                    "orderKey": r[1],
                    "customerId": r[2],
                    "orderStatus": r[3],
                    "orderPaymentStatus": r[4],
                    "orderChannel": r[5],
                    "orderDate": at(r[6]),
                    "timeOut": at(r[7]),
                    "lastChanged": at(r[8]),
                    "amount": money(r[9]),
                    "fee": money(r[10]),
                    "donation": money(r[11]),
                    "handlingTextPayment": r[12],
                    "discountName": r[13],
                    "seats": current,
                    "deletedSeats": deleted,
                    "user": None if r[2] is None else users.get(r[2]),
                }
            )
        return out

    yield from _array(render(rows) for rows in src.batches(sql, tenant_id))


# The database's own functions: each order as one text, from `{"orderId":` up to `"user":`,
# with its seats aggregated by a subquery (one index lookup per order). PostgreSQL renders
# instants with to_char in the client's zone (the transaction's TimeZone), as general as
# Python (local-mean-time offsets with seconds, before 1973, too); SQLite, which knows no
# zones, calls back into the floor's Instants through a function, and builds the text with
# printf. Written for the floor on its own, not taken from the server.


def _pg_instant(col: str) -> str:
    ts = f"to_timestamp(({col} - mod(mod({col}, 1000000) + 1000000, 1000000)) / 1000000)"
    off = f"extract(timezone FROM {ts})::int"
    return (
        f"""to_char({ts}, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM') || CASE WHEN {col} < 94694400000000"""
        f""" AND mod({off}, 60) <> 0 THEN ':' || lpad(mod(abs({off}), 60)::text, 2, '0')"""
        """ ELSE '' END"""
    )


def _pg_money(x: str) -> str:
    return f"({x} * 0.01)"


def _pg_text(x: str) -> str:
    return f"coalesce(to_json({x})::text, 'null')"


def _pg_number(x: str) -> str:
    return f"coalesce({x}::text, 'null')"


def _pg_seat(deleted: bool) -> str:
    text = (
        f"""'{{"seatId":' || s.id || ',"eventId":' || s.event_id || ',"rankId":' || s.rank_id"""
        f""" || ',"rowNr":' || {_pg_number("s.row_nr")}"""
        f""" || ',"seatNr":' || {_pg_number("s.seat_nr")}"""
        f""" || ',"amount":' || {_pg_money("s.amount_cents")}"""
        f""" || ',"priceId":' || {_pg_text("s.price_id")}"""
        f""" || ',"priceName":' || {_pg_text("s.price_name")}"""
    )
    if deleted:
        return text + f""" || ',"deletedAt":"' || {_pg_instant("s.deleted_at")} || '"}}'"""
    return text + " || '}'"


def _pg_order() -> str:
    i, m, t = _pg_instant, _pg_money, _pg_text
    return f"""'{{"orderId":' || o.id || ',"orderKey":' || {t("o.order_key")}
  || ',"customerId":' || {_pg_number("o.customer_id")}
  || ',"orderStatus":' || {t("o.status")}
  || ',"orderPaymentStatus":' || {t("o.payment_status")}
  || ',"orderChannel":' || {t("o.channel")}
  || ',"orderDate":"' || {i("o.order_date_at")}
  || '","timeOut":' || coalesce('"' || {i("o.time_out_at")} || '"', 'null')
  || ',"lastChanged":"' || {i("o.last_changed_at")}
  || '","amount":' || {m("o.amount_cents")} || ',"fee":' || {m("o.fee_cents")}
  || ',"donation":' || {m("o.donation_cents")}
  || ',"handlingTextPayment":' || {t("o.handling_text")}
  || ',"discountName":' || {t("o.discount_name")}
  || ',"seats":[' || coalesce(j.cur, '') || '],"deletedSeats":[' || coalesce(j.del, '')
  || '],"user":'"""


def _pg_agg(deleted: bool) -> str:
    where = "IS NOT NULL" if deleted else "IS NULL"
    return f"string_agg({_pg_seat(deleted)}, ',' ORDER BY s.id) FILTER (WHERE s.deleted_at {where})"


_PG_ORDERS_SQL = f"""
SELECT o.customer_id, {_pg_order()}
FROM orders o LEFT JOIN LATERAL (
  SELECT {_pg_agg(False)} AS cur, {_pg_agg(True)} AS del
  FROM order_seats s WHERE s.order_id = o.id AND s.tenant_id = o.tenant_id
) j ON true
WHERE o.tenant_id = %s ORDER BY o.last_changed_at, o.id
"""


# SQLite: one printf() per order and per seat (cheaper than chains of `||` there).
_MONEY = "%s%d.%02d"


def _money_args(x: str) -> str:
    return f"CASE WHEN {x} < 0 THEN '-' ELSE '' END, abs({x}) / 100, abs({x}) % 100"


def _sqlite_agg(deleted: bool) -> str:
    fmt = (
        '{"seatId":%d,"eventId":%d,"rankId":%d,"rowNr":%s,"seatNr":%s,'
        f'"amount":{_MONEY},"priceId":%s,"priceName":%s'
    )
    args = (
        "s.id, s.event_id, s.rank_id, coalesce(s.row_nr, 'null'), coalesce(s.seat_nr, 'null'),"
        f" {_money_args('s.amount_cents')}, json_quote(s.price_id), json_quote(s.price_name)"
    )
    if deleted:
        fmt += ',"deletedAt":"%s"'
        args += ", floor_instant(s.deleted_at)"
    where = "IS NOT NULL" if deleted else "IS NULL"
    return (
        f"(SELECT group_concat(j, ',') FROM (SELECT printf('{fmt}}}', {args}) AS j"
        " FROM order_seats s WHERE s.order_id = o.id AND s.tenant_id = o.tenant_id"
        f" AND s.deleted_at {where} ORDER BY s.id))"
    )


_SQLITE_ORDER_FMT = (
    '{"orderId":%d,"orderKey":%s,"customerId":%s,"orderStatus":%s,"orderPaymentStatus":%s,'
    '"orderChannel":%s,"orderDate":"%s","timeOut":%s,"lastChanged":"%s",'
    f'"amount":{_MONEY},"fee":{_MONEY},"donation":{_MONEY},"handlingTextPayment":%s,'
    '"discountName":%s,"seats":[%s],"deletedSeats":[%s],"user":'
)
_SQLITE_ORDERS_SQL = f"""
SELECT o.customer_id, printf('{_SQLITE_ORDER_FMT}', o.id, json_quote(o.order_key),
  coalesce(o.customer_id, 'null'), json_quote(o.status), json_quote(o.payment_status),
  json_quote(o.channel), floor_instant(o.order_date_at),
  coalesce('"' || floor_instant(o.time_out_at) || '"', 'null'), floor_instant(o.last_changed_at),
  {_money_args("o.amount_cents")}, {_money_args("o.fee_cents")},
  {_money_args("o.donation_cents")}, json_quote(o.handling_text), json_quote(o.discount_name),
  coalesce({_sqlite_agg(False)}, ''), coalesce({_sqlite_agg(True)}, ''))
FROM orders o WHERE o.tenant_id = ? ORDER BY o.last_changed_at, o.id
"""


# The customer's text fields: key, column.
_USER_TEXTS = [
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
]


def _pg_users_sql() -> str:
    fields = "".join(
        f""" || ',"{key}":' || {_pg_text("c." + column)}""" for key, column in _USER_TEXTS
    )
    tags = (
        "(SELECT string_agg(to_json(t.name)::text, ',' ORDER BY t.name COLLATE \"C\")"
        " FROM customer_tags t WHERE t.customer_id = c.id AND t.tenant_id = c.tenant_id)"
    )
    return f"""SELECT c.id, '{{"customerId":' || c.id{fields}
  || ',"customerCredit":' || {_pg_money("c.credit_cents")}
  || ',"clientTypes":[' || coalesce({tags}, '')
  || '],"createdAt":"' || {_pg_instant("c.created_at")}
  || '","lastChanged":"' || {_pg_instant("c.last_changed_at")} || '"}}'
FROM customers c WHERE c.tenant_id = %s"""


def _sqlite_users_sql() -> str:
    fmt = (
        '{"customerId":%d,'
        + "".join(f'"{key}":%s,' for key, _ in _USER_TEXTS)
        + f'"customerCredit":{_MONEY},"clientTypes":[%s],"createdAt":"%s","lastChanged":"%s"}}'
    )
    texts = ", ".join(f"json_quote(c.{column})" for _, column in _USER_TEXTS)
    tags = (
        "(SELECT group_concat(n, ',') FROM (SELECT json_quote(t.name) AS n FROM customer_tags t"
        " WHERE t.customer_id = c.id AND t.tenant_id = c.tenant_id ORDER BY t.name))"
    )
    return (
        f"SELECT c.id, printf('{fmt}', c.id, {texts}, {_money_args('c.credit_cents')},"
        f" coalesce({tags}, ''), floor_instant(c.created_at), floor_instant(c.last_changed_at))"
        " FROM customers c WHERE c.tenant_id = ?"
    )


def _in_database(src: Source, tz: ZoneInfo) -> bool:
    """Set the source up for the database's route (PostgreSQL: zone and no JIT; SQLite: the
    instant function); True on PostgreSQL."""
    if src.mark == "%s":
        src.conn.execute("SELECT set_config('TimeZone', %s, true)", (tz.key,))
        src.conn.execute("SET LOCAL jit = off")  # compiling costs more than it saves here
        return True
    src.conn.create_function("floor_instant", 1, Instants(tz), deterministic=True)
    return False


def _users_sql(postgresql: bool) -> str:
    return _pg_users_sql() if postgresql else _sqlite_users_sql()


def orders_in_database(src: Source, tenant_id: int, tz: ZoneInfo) -> Iterator[bytes]:
    """The orders export rendered by the database, every customer too, once, up front."""
    postgresql = _in_database(src, tz)
    users = {cid: text.encode() for cid, text in src.rows(_users_sql(postgresql), tenant_id)}
    cur = src.conn.cursor()
    cur.execute(_PG_ORDERS_SQL if postgresql else _SQLITE_ORDERS_SQL, (tenant_id,))
    opening = b"["
    while rows := cur.fetchmany(BATCH):
        records = [
            b"".join((text.encode(), b"null" if cid is None else users[cid], b"}"))
            for cid, text in rows
        ]
        yield opening + b",".join(records)
        opening = b","
    yield b"[]" if opening == b"[" else b"]"


def customers_in_database(src: Source, tenant_id: int, tz: ZoneInfo) -> Iterator[bytes]:
    """The customers export rendered by the database."""
    sql = _users_sql(_in_database(src, tz)) + " ORDER BY c.last_changed_at, c.id"
    opening = b"["
    for rows in src.batches(sql, tenant_id):
        yield opening + ",".join([text for _, text in rows]).encode()
        opening = b","
    yield b"[]" if opening == b"[" else b"]"


def waitinglist_in_database(src: Source, tenant_id: int, tz: ZoneInfo) -> Iterator[bytes]:
    """The waiting list by orjson, with the customers it names (only those) rendered by the
    database up front."""
    sql = _users_sql(_in_database(src, tz)) + (
        " AND c.id IN (SELECT customer_id FROM waiting_list_entries WHERE tenant_id = ?)"
    )
    users = {
        cid: orjson.Fragment(text.encode()) for cid, text in src.rows(sql, tenant_id, tenant_id)
    }
    yield from _waiting_entries(src, tenant_id, Instants(tz), users)


# The routes of each export: by orjson (DATASETS), and by the database's own functions
# (IN_DATABASE), which measured faster on both databases for every export; bench.py times
# both and uses the latter as the floor.
DATASETS = {"orders": orders, "customers": customers, "waitinglist": waitinglist}
IN_DATABASE = {
    "orders": orders_in_database,
    "customers": customers_in_database,
    "waitinglist": waitinglist_in_database,
}
