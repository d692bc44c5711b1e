"""SQL for orders and their seats. Every function is scoped by a keyword-only tenant_id."""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    Integer,
    RowMapping,
    bindparam,
    func,
    insert,
    literal_column,
)

from boxoffice.server.db.changes import changed
from boxoffice.server.db.scoping import (
    all_rows,
    first_row,
    per_tenant,
    rows_grouped_by,
    scoped_select,
    scoped_update,
)
from boxoffice.server.db.transactions import Pipelined
from boxoffice.server.orders.tables import order_seats, orders


@dataclass(frozen=True, slots=True)
class NewOrder:
    order_key: str
    status: str
    # A reservation's expiry (its timeOut); None for an order that does not expire.
    time_out_at: int | None
    customer_id: int | None
    payment_status: str
    channel: str
    payment_method_id: int
    handling_text: str
    amount_cents: int
    fee_cents: int
    donation_cents: int


@dataclass(frozen=True, slots=True)
class NewSeat:
    """One ticket of a new order."""

    event_id: int
    rank_id: int
    hall_seat_id: int | None
    row_nr: int | None
    seat_nr: int | None
    price_id: str
    price_name: str
    amount_cents: int


# Built once: every checkout runs them.
_INSERT_ORDER = insert(orders).returning(*orders.c)
_INSERT_SEATS = insert(order_seats).returning(*order_seats.c, sort_by_parameter_order=True)

# PostgreSQL: an order and its seats as statements to send in ONE pipeline
# (db/transactions.py, run_pipelined): every column bound by name (so that the statement is
# compiled once), each seat a statement of its own that finds its order by the order's key
# (the order is inserted by the statement before it, in the same transaction).
_ORDER_VALUES = [column.name for column in orders.c if column.name != "id"]
_INSERT_ORDER_SENT = (
    insert(orders)
    .values({name: bindparam(f"p_{name}") for name in _ORDER_VALUES})
    .returning(*orders.c)
)
_SEAT_VALUES = [column.name for column in order_seats.c if column.name not in ("id", "order_id")]
# The id of the seat that the statement before it inserted, in the same session (the
# statement after a seat's insert, as `last_seat_id`).
LAST_SEAT_ID: ColumnElement[int] = literal_column(
    "currval(pg_get_serial_sequence('order_seats', 'id'))", Integer
)


@per_tenant
def _insert_seat_sent(tenant_id: int) -> Insert:
    order_id = scoped_select(orders, orders.c.id, tenant_id=tenant_id).where(
        orders.c.order_key == bindparam("p_order_key")
    )
    values: dict[str, Any] = {name: bindparam(f"p_{name}") for name in _SEAT_VALUES}
    values["order_id"] = order_id.scalar_subquery()
    return insert(order_seats).values(values).returning(*order_seats.c)


def _order_values(tenant_id: int, order: NewOrder, now: int) -> dict[str, Any]:
    """Every column of a new order but its id."""
    return {
        "tenant_id": tenant_id,
        "order_date_at": now,
        "discount_name": None,
        "created_at": now,
        "last_changed_at": now,
        **asdict(order),
    }


def insert_order(conn: Connection, *, tenant_id: int, order: NewOrder, now: int) -> RowMapping:
    """Insert an order; the row as stored (RETURNING: no second statement to read it back)."""
    values = _order_values(tenant_id, order, now)
    return conn.execute(_INSERT_ORDER, values).mappings().one()


def insert_order_seats(
    conn: Connection, *, tenant_id: int, order_id: int, seats: Sequence[NewSeat]
) -> list[RowMapping]:
    """One `order_seats` row per seat, in one INSERT (SQLite: one a row, in one call); the
    rows as stored, in the seats' order."""
    if not seats:
        return []
    rows = [
        {"tenant_id": tenant_id, "order_id": order_id, "deleted_at": None, **asdict(s)}
        for s in seats
    ]
    return list(conn.execute(_INSERT_SEATS, rows).mappings())


def insert_order_sent(*, tenant_id: int, order: NewOrder, now: int) -> Pipelined:
    """PostgreSQL: `insert_order` as a statement to send in a pipeline; its row is the order
    as stored."""
    values = _order_values(tenant_id, order, now)
    return _INSERT_ORDER_SENT, {f"p_{name}": values[name] for name in _ORDER_VALUES}


def insert_seat_sent(*, tenant_id: int, order_key: str, seat: NewSeat) -> Pipelined:
    """PostgreSQL: one seat of the order with this key (inserted before it in the same
    transaction), as a statement to send in a pipeline; its row is the seat as stored. The
    statement right after it may refer to the seat's id as LAST_SEAT_ID."""
    values = {"tenant_id": tenant_id, "deleted_at": None, **asdict(seat)}
    params = {f"p_{name}": values[name] for name in _SEAT_VALUES}
    return _insert_seat_sent(tenant_id), {**params, "p_order_key": order_key}


def get_order(conn: Connection, *, tenant_id: int, order_id: int) -> RowMapping | None:
    return first_row(conn, orders, orders.c.id == order_id, tenant_id=tenant_id)


def list_seats_by_order(
    conn: Connection, *, tenant_id: int, order_ids: Collection[int]
) -> dict[int, list[RowMapping]]:
    """All seats (current and removed) per order id, in seat id order."""
    key = order_seats.c.order_id
    return rows_grouped_by(conn, key, order_ids, tenant_id=tenant_id, order_by=[order_seats.c.id])


def lock_order(conn: Connection, *, tenant_id: int, order_id: int) -> RowMapping | None:
    """The order row, locked until commit on PostgreSQL (SQLite's writer lock suffices)."""
    return first_row(conn, orders, orders.c.id == order_id, tenant_id=tenant_id, lock=True)


def update_order(
    conn: Connection, *, tenant_id: int, order_id: int, values: Mapping[str, Any], now: int
) -> None:
    """Set `values` and move last_changed_at forward."""
    conn.execute(changed(orders, orders.c.id == order_id, tenant_id=tenant_id, now=now, **values))


def get_seat(conn: Connection, *, tenant_id: int, order_id: int, seat_id: int) -> RowMapping | None:
    where = (order_seats.c.order_id == order_id, order_seats.c.id == seat_id)
    return first_row(conn, order_seats, *where, tenant_id=tenant_id)


def list_current_seats(conn: Connection, *, tenant_id: int, order_id: int) -> list[RowMapping]:
    where = (order_seats.c.order_id == order_id, order_seats.c.deleted_at.is_(None))
    return all_rows(conn, order_seats, *where, tenant_id=tenant_id, order_by=[order_seats.c.id])


def update_seat_deleted(conn: Connection, *, tenant_id: int, seat_id: int, now: int) -> None:
    conn.execute(
        scoped_update(order_seats, tenant_id=tenant_id)
        .where(order_seats.c.id == seat_id)
        .values(deleted_at=now)
    )


def sum_current_seat_cents(conn: Connection, *, tenant_id: int, order_id: int) -> int:
    total = func.coalesce(func.sum(order_seats.c.amount_cents), 0)
    stmt = scoped_select(order_seats, total, tenant_id=tenant_id).where(
        order_seats.c.order_id == order_id,
        order_seats.c.deleted_at.is_(None),
    )
    return int(conn.execute(stmt).scalar_one())
