"""One exporter per dataset: the rows it reads and how a batch of them becomes records.

Rendering goes only through the features' resources.py functions, so an exported customer,
order or waiting-list entry has exactly the shape the other endpoints give it. A batch's
related rows are read with one query each (seats, customers, tags), never one per record.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from boxoffice.server.customers.resources import user_resource
from boxoffice.server.exports import repository
from boxoffice.server.exports.repository import Batch
from boxoffice.server.orders.resources import order_export_resource_of_seat_rows, order_resource
from boxoffice.server.waitinglist.resources import waiting_resource

Renderer = Callable[[Connection, Batch, Sequence[dict[str, Any]], ZoneInfo], list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Exporter:
    """A dataset of the export API: its name (also its table in the export repository),
    the code that binds paging cursors to it, and its batch renderer."""

    name: str
    cursor_code: int
    render: Renderer


def _users(conn: Connection, batch: Batch, tz: ZoneInfo) -> dict[int, dict[str, Any]]:
    """UserResource per customer of the batch, for the inline `user` of its records."""
    rows = repository.list_customers_of(conn, batch, "customer_id")
    tags = repository.list_tags_of(conn, batch, "customer_id")
    return {cid: user_resource(row, tags.get(cid, ()), tz) for cid, row in rows.items()}


def _render_customers(
    conn: Connection, batch: Batch, rows: Sequence[dict[str, Any]], tz: ZoneInfo
) -> list[dict[str, Any]]:
    tags = repository.list_tags_of(conn, batch, "id")
    return [user_resource(row, tags.get(row["id"], ()), tz) for row in rows]


def _render_orders(
    conn: Connection, batch: Batch, rows: Sequence[dict[str, Any]], tz: ZoneInfo
) -> list[dict[str, Any]]:
    seats = repository.list_seats_of(conn, batch)
    users = _users(conn, batch, tz)
    return [
        order_export_resource_of_seat_rows(
            row,
            seats.get(row["id"], ()),
            None if row["customer_id"] is None else users.get(row["customer_id"]),
            tz,
        )
        for row in rows
    ]


def _render_waiting(
    conn: Connection, batch: Batch, rows: Sequence[dict[str, Any]], tz: ZoneInfo
) -> list[dict[str, Any]]:
    users = _users(conn, batch, tz)
    return [waiting_resource(row, users.get(row["customer_id"]), tz) for row in rows]


def _render_order_list(
    _conn: Connection, _batch: Batch, rows: Sequence[dict[str, Any]], tz: ZoneInfo
) -> list[dict[str, Any]]:
    return [order_resource(row, tz) for row in rows]


CUSTOMERS = Exporter(name="customers", cursor_code=1, render=_render_customers)
ORDERS = Exporter(name="orders", cursor_code=2, render=_render_orders)
WAITINGLIST = Exporter(name="waitinglist", cursor_code=3, render=_render_waiting)
# `GET /order`: the orders of the export, in the shorter OrderResource shape.
ORDER_LIST = Exporter(name="orders", cursor_code=4, render=_render_order_list)
