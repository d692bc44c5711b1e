"""The floor: the export bytes made in one process, without HTTP or a web framework.

The same records and the same JSON as `POST /export/<dataset>` (a JSON array, ascending
(last_changed_at, id)), read with a raw DB-API cursor (sqlite3 or psycopg) and rendered with
orjson. Every customer is rendered once and reused as a pre-serialized fragment; instants use
an offset table per UTC hour of the client's zone. bench.py checks that these bytes hash the
same as the server's response before it compares any throughput with them.
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
    users = _LazyUsers(src, tenant_id, at)
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


DATASETS = {"orders": orders, "customers": customers, "waitinglist": waitinglist}
