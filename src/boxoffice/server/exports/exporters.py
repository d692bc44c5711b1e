"""One exporter per dataset: the rows it reads and how a batch of them becomes records.

Rendering in Python goes only through the features' resources.py functions, so an exported
customer, order or waiting-list entry has exactly the shape the other endpoints give it. A
batch's related rows are read with one query each (seats, customers, tags), never one per
record. The orders export is rendered by the database itself (repository.stream_order_json),
byte for byte as those functions and orjson would render it, which the tests check.
"""

import logging
import weakref
from collections.abc import Callable, Collection, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Connection, Engine

from boxoffice.server.customers.resources import user_resource_of_row
from boxoffice.server.db.paging import Window
from boxoffice.server.exports import repository
from boxoffice.server.exports.writers import Writer
from boxoffice.server.orders.resources import (
    ORDER_ROW_COLUMNS,
    order_export_resource_of_rows,
    order_resource_of_row,
)
from boxoffice.server.values.instants import instant_to_micros
from boxoffice.server.values.rendering import render_instant
from boxoffice.server.waitinglist.resources import WAITING_ROW_COLUMNS, waiting_resource_of_row

log = logging.getLogger(__name__)

# What one cached customer costs beyond its JSON bytes: the bytes object and its slot in
# the dict (CPython 3.11, 64-bit), rounded up.
_ENTRY_OVERHEAD = 128

# Where a row of each export holds the ids a batch reads related rows by (every row starts
# with its own id).
_ORDER_CUSTOMER = ORDER_ROW_COLUMNS.index("customer_id")
_WAITING_CUSTOMER = WAITING_ROW_COLUMNS.index("customer_id")


class Users:
    """The inline `user` of one export's records: each customer's UserResource, serialized.

    A customer has records in many batches (in the demo data an orders export meets each
    customer in 3.5 batches on average), so the serialized bytes of every customer rendered
    are kept, as long as they fit in `budget` bytes, and later batches read and render only
    the customers not met yet. Past the budget customers are still read per batch, just not
    kept: memory stays bounded whatever the size of the client. The bytes stay exact for
    the whole export: it reads one snapshot, in which no customer changes.
    """

    def __init__(self, conn: Connection, tenant_id: int, tz: ZoneInfo, budget: int) -> None:
        self._conn = conn
        self._tenant_id = tenant_id
        self._tz = tz
        self._left = budget
        self._kept: dict[int, bytes] = {}

    def __len__(self) -> int:
        """How many customers are kept."""
        return len(self._kept)

    def forget(self) -> None:
        """Drop every kept customer (the export is over)."""
        self._kept = {}
        self._left = 0

    def serialized(self, ids: Collection[int]) -> dict[int, bytes]:
        """The JSON of each of these customers' UserResource (the client's own only)."""
        return self._cached(ids, self._render)

    def serialized_by_database(self, ids: Collection[int]) -> dict[int, bytes]:
        """The same (the same bytes), rendered by the database (see repository.use_zone)."""
        return self._cached(ids, self._render_in_database)

    def _cached(
        self, ids: Collection[int], render: Callable[[list[int]], Iterator[tuple[int, bytes]]]
    ) -> dict[int, bytes]:
        kept = self._kept
        found = {cid: user for cid in ids if (user := kept.get(cid)) is not None}
        missing = [cid for cid in ids if cid not in found]
        if not missing:
            return found
        for cid, data in render(missing):
            found[cid] = data
            if self._left > 0:
                kept[cid] = data
                self._left -= len(data) + _ENTRY_OVERHEAD
        return found

    def _render(self, ids: list[int]) -> Iterator[tuple[int, bytes]]:
        tags = repository.list_tags(self._conn, tenant_id=self._tenant_id, ids=ids)
        for row in repository.list_customers(self._conn, tenant_id=self._tenant_id, ids=ids):
            resource = user_resource_of_row(row, tags.get(row[0], ()), self._tz)
            # Copied into a bytes object of its own size: orjson returns a buffer of at least
            # 4 KiB, so each kept customer would cost about ten times its size.
            yield row[0], bytes(memoryview(orjson.dumps(resource)))

    def _render_in_database(self, ids: list[int]) -> Iterator[tuple[int, bytes]]:
        for cid, text in repository.list_customer_json(
            self._conn, tenant_id=self._tenant_id, ids=ids
        ):
            yield cid, text.encode()

    def of(self, ids: Collection[int]) -> dict[int, orjson.Fragment]:
        """The same, as fragments to place in records that orjson serializes."""
        Fragment = orjson.Fragment
        return {cid: Fragment(data) for cid, data in self.serialized(ids).items()}


@dataclass(frozen=True, slots=True)
class ExportContext:
    """What one export's batches share: its snapshot's connection, the client, its zone,
    and the customers already rendered."""

    conn: Connection
    tenant_id: int
    tz: ZoneInfo
    users: Users


def export_context(conn: Connection, *, tenant_id: int, tz: ZoneInfo, budget: int) -> ExportContext:
    return ExportContext(conn, tenant_id, tz, Users(conn, tenant_id, tz, budget))


Renderer = Callable[[ExportContext, Sequence[Any]], list[dict[str, Any]]]
Rows = Generator[Sequence[Any], None, None]


class Batch(NamedTuple):
    """A batch of an export's rows, and what was read with them to encode them (or None)."""

    rows: Sequence[Any]
    related: Any


@dataclass(frozen=True, slots=True)
class DatabaseRendering:
    """An export whose records the database renders as JSON itself: how its rows are read
    (each holds a record's JSON text), what else a batch needs read with it, and how the
    two become the pieces of the records' JSON (Writer.join) without touching the database."""

    stream: Callable[..., Rows]
    related: Callable[[ExportContext, Sequence[Any]], Any]
    records: Callable[[Sequence[Any], Any, bytes], list[bytes]]


def _batches(rows: Rows, related: Callable[[Sequence[Any]], Any]) -> Generator[Batch, None, None]:
    try:
        for batch in rows:
            yield Batch(batch, related(batch))
    finally:
        rows.close()


@dataclass(frozen=True, slots=True)
class Reading:
    """How one export goes: its batches, and the bytes of a batch (the first batch's with what
    opens the stream). With `read_ahead`, encoding a batch reads nothing from the database,
    so the next batch may be read while one is encoded."""

    batches: Generator[Batch, None, None]
    encode: Callable[[Batch, bool], bytes]
    read_ahead: bool


@dataclass(frozen=True, slots=True)
class Exporter:
    """A dataset of the export API: its name (also its table in the export repository),
    the code that binds paging cursors to it, and how a batch of its rows (tuples in
    repository.ROW_COLUMNS[name] order) becomes records; or, with `in_database`, how the
    database renders them (unless PostgreSQL's zone rules differ from Python's)."""

    name: str
    cursor_code: int
    render: Renderer
    in_database: DatabaseRendering | None = None

    def read(self, context: ExportContext, *, window: Window, size: int, writer: Writer) -> Reading:
        """The batches of the export of `window`, `size` rows each, and their encoding."""
        conn, tenant_id = context.conn, context.tenant_id
        in_database = self.in_database
        if in_database is not None and _database_renders(conn, context.tz):
            rows = in_database.stream(conn, tenant_id=tenant_id, window=window, size=size)
            return Reading(
                _batches(rows, lambda batch: in_database.related(context, batch)),
                lambda batch, first: writer.join(
                    in_database.records(batch.rows, batch.related, writer.record_end), first=first
                ),
                read_ahead=True,
            )
        rows = repository.stream_rows(
            conn, self.name, tenant_id=tenant_id, window=window, size=size
        )
        return Reading(
            _batches(rows, lambda _batch: None),
            lambda batch, first: writer.batch(self.render(context, batch.rows), first=first),
            read_ahead=False,
        )


# Instants at which PostgreSQL's rendering in a zone is compared with Python's before the
# database renders an export in that zone: the 1st and the 15th of every month of 1890-2050
# (local mean time, every rule change of the zone's history, the far future). Both sides read
# the zone rules of their own tz database, which may be of different versions.
_ZONE_PROBES = [
    instant_to_micros(datetime(year, month, day, hour, tzinfo=UTC))
    for year in range(1890, 2051)
    for month in range(1, 13)
    for day, hour in ((1, 0), (15, 12))
]
_zones_agreed: "weakref.WeakKeyDictionary[Engine, dict[str, bool]]" = weakref.WeakKeyDictionary()


def _database_renders(conn: Connection, tz: ZoneInfo) -> bool:
    """Whether the database renders this export: SQLite does (its instants come from Python);
    PostgreSQL does when it knows the zone (now the transaction's TimeZone) and renders the
    zone's instants as Python does (checked once per engine and zone)."""
    if not repository.use_zone(conn, tz):
        return False
    if conn.dialect.name == "sqlite":
        return True
    agreed = _zones_agreed.setdefault(conn.engine, {})
    if tz.key not in agreed:
        python = [render_instant(micros, tz) for micros in _ZONE_PROBES]
        database = repository.render_instants(conn, _ZONE_PROBES)
        differences = [(a, b) for a, b in zip(database, python, strict=True) if a != b]
        agreed[tz.key] = not differences
        if differences:
            log.warning(
                "PostgreSQL renders zone %s unlike Python (%s, not %s, and %d more):"
                " its orders exports are rendered in Python",
                tz.key,
                *differences[0],
                len(differences) - 1,
            )
    return agreed[tz.key]


def _render_customers(context: ExportContext, rows: Sequence[Any]) -> list[dict[str, Any]]:
    tags = repository.list_tags(
        context.conn, tenant_id=context.tenant_id, ids=[row[0] for row in rows]
    )
    tz = context.tz
    return [user_resource_of_row(row, tags.get(row[0], ()), tz) for row in rows]


def _render_orders(context: ExportContext, rows: Sequence[Any]) -> list[dict[str, Any]]:
    seats = repository.list_seats(
        context.conn, tenant_id=context.tenant_id, order_ids=[row[0] for row in rows]
    )
    customer = _ORDER_CUSTOMER
    users = context.users.of({row[customer] for row in rows if row[customer] is not None})
    tz, no_seats = context.tz, ()
    return [
        order_export_resource_of_rows(
            row,
            seats.get(row[0], no_seats),
            None if row[customer] is None else users.get(row[customer]),
            tz,
        )
        for row in rows
    ]


def _order_users(context: ExportContext, rows: Sequence[Any]) -> dict[int, bytes]:
    """The serialized users of a batch of (customer_id, order JSON) rows."""
    return context.users.serialized_by_database({row[0] for row in rows if row[0] is not None})


def _order_json(rows: Sequence[Any], users: dict[int, bytes], end: bytes) -> list[bytes]:
    """The pieces of the JSON of each order of a batch of (customer_id, JSON up to `"user":`)
    rows, each order's last piece ending with `end` (see Writer.join)."""
    pieces: list[bytes] = []
    add, none, closing = pieces.extend, b"null", b"}" + end
    for cid, text in rows:
        add((text.encode(), none if cid is None else users.get(cid, none), closing))
    return pieces


def _render_waiting(context: ExportContext, rows: Sequence[Any]) -> list[dict[str, Any]]:
    customer = _WAITING_CUSTOMER
    users, tz = context.users.of({row[customer] for row in rows}), context.tz
    return [waiting_resource_of_row(row, users.get(row[customer]), tz) for row in rows]


def _render_order_list(context: ExportContext, rows: Sequence[Any]) -> list[dict[str, Any]]:
    tz = context.tz
    return [order_resource_of_row(row, tz) for row in rows]


CUSTOMERS = Exporter(name="customers", cursor_code=1, render=_render_customers)
ORDERS = Exporter(
    name="orders",
    cursor_code=2,
    render=_render_orders,
    in_database=DatabaseRendering(
        stream=repository.stream_order_json, related=_order_users, records=_order_json
    ),
)
WAITINGLIST = Exporter(name="waitinglist", cursor_code=3, render=_render_waiting)
# `GET /order`: the orders of the export, in the shorter OrderResource shape.
ORDER_LIST = Exporter(name="orders", cursor_code=4, render=_render_order_list)
