"""One exporter per dataset: the rows it reads and how a batch of them becomes records.

Rendering goes only through the features' resources.py functions, so an exported customer,
order or waiting-list entry has exactly the shape the other endpoints give it. A batch's
related rows are read with one query each (seats, customers, tags), never one per record.
"""

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Connection

from boxoffice.server.customers.resources import user_resource_of_row
from boxoffice.server.exports import repository
from boxoffice.server.orders.resources import (
    ORDER_ROW_COLUMNS,
    order_export_resource_of_rows,
    order_resource,
)
from boxoffice.server.waitinglist.resources import waiting_resource_of_row

# What one cached customer costs beyond its JSON bytes: the bytes and Fragment objects and
# its slot in the dict (CPython 3.11, 64-bit), rounded up.
_ENTRY_OVERHEAD = 128


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
        self._kept: dict[int, orjson.Fragment] = {}

    def of(self, ids: Collection[int]) -> dict[int, orjson.Fragment]:
        """The serialized UserResource of each of these customers (the client's own only)."""
        kept = self._kept
        found = {cid: user for cid in ids if (user := kept.get(cid)) is not None}
        missing = [cid for cid in ids if cid not in found]
        if not missing:
            return found
        tags = repository.list_tags(self._conn, self._tenant_id, missing)
        for row in repository.list_customers(self._conn, self._tenant_id, missing):
            resource = user_resource_of_row(row, tags.get(row[0], ()), self._tz)
            # Copied into a bytes object of its own size: orjson returns a buffer of at least
            # 4 KiB, so each kept customer would cost about ten times its size.
            data = bytes(memoryview(orjson.dumps(resource)))
            fragment = found[row[0]] = orjson.Fragment(data)
            if self._left > 0:
                kept[row[0]] = fragment
                self._left -= len(data) + _ENTRY_OVERHEAD
        return found


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


@dataclass(frozen=True, slots=True)
class Exporter:
    """A dataset of the export API: its name (also its table in the export repository),
    the code that binds paging cursors to it, and how a batch of its rows (tuples in
    repository.ROW_COLUMNS[name] order) becomes records."""

    name: str
    cursor_code: int
    render: Renderer


def _render_customers(context: ExportContext, rows: Sequence[Any]) -> list[dict[str, Any]]:
    tags = repository.list_tags(context.conn, context.tenant_id, [row[0] for row in rows])
    tz = context.tz
    return [user_resource_of_row(row, tags.get(row[0], ()), tz) for row in rows]


def _render_orders(context: ExportContext, rows: Sequence[Any]) -> list[dict[str, Any]]:
    seats = repository.list_seats(context.conn, context.tenant_id, [row[0] for row in rows])
    users = context.users.of({row[2] for row in rows if row[2] is not None})
    tz, no_seats = context.tz, ()
    return [
        order_export_resource_of_rows(
            row, seats.get(row[0], no_seats), None if row[2] is None else users.get(row[2]), tz
        )
        for row in rows
    ]


def _render_waiting(context: ExportContext, rows: Sequence[Any]) -> list[dict[str, Any]]:
    users, tz = context.users.of({row[1] for row in rows}), context.tz
    return [waiting_resource_of_row(row, users.get(row[1]), tz) for row in rows]


def _render_order_list(context: ExportContext, rows: Sequence[Any]) -> list[dict[str, Any]]:
    tz = context.tz
    return [order_resource(dict(zip(ORDER_ROW_COLUMNS, row, strict=True)), tz) for row in rows]


CUSTOMERS = Exporter(name="customers", cursor_code=1, render=_render_customers)
ORDERS = Exporter(name="orders", cursor_code=2, render=_render_orders)
WAITINGLIST = Exporter(name="waitinglist", cursor_code=3, render=_render_waiting)
# `GET /order`: the orders of the export, in the shorter OrderResource shape.
ORDER_LIST = Exporter(name="orders", cursor_code=4, render=_render_order_list)
