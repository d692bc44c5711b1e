"""SQL for orders and their seats. Every function is scoped by a keyword-only tenant_id."""

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Integer,
    RowMapping,
    Select,
    Update,
    bindparam,
    func,
    insert,
    select,
    true,
)

from boxoffice.server.db.changes import changed
from boxoffice.server.db.numbered import Given, numbered_rows, numbered_values
from boxoffice.server.db.scoping import (
    PER_TENANT_STATEMENTS,
    all_rows,
    first_row,
    rows_grouped_by,
    scoped_select,
    scoped_update,
)
from boxoffice.server.db.transactions import Pipelined, run_each, run_one
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


# A seat's values as given (NewSeat's fields), and an order's (NewOrder's).
_SEAT_GIVEN = [f.name for f in fields(NewSeat)]
_ORDER_GIVEN = [f.name for f in fields(NewOrder)]


def _seat_values(seat: NewSeat) -> dict[str, Any]:
    """A seat's fields by name: what dataclasses.asdict gives, without its deep copy of every
    value (6-9 us a seat or an order against under 1)."""
    return {name: getattr(seat, name) for name in _SEAT_GIVEN}


# Built once: every checkout runs it (SQLite), each value a parameter of its column's name.
_SEAT_COLUMNS = ("tenant_id", "order_id", "deleted_at", *_SEAT_GIVEN)
_INSERT_SEATS = (
    insert(order_seats)
    .values({name: bindparam(name) for name in _SEAT_COLUMNS})
    .returning(*order_seats.c, sort_by_parameter_order=True)
)

# An order (on PostgreSQL with its seats and their sales: _sold_order_insert) as a
# statement for the driver (db/transactions.py, run_one and run_pipelined): every column
# bound by name, so that the statement is compiled once.
_ORDER_VALUES = [column.name for column in orders.c if column.name != "id"]
_INSERT_ORDER_SENT = (
    insert(orders)
    .values({name: bindparam(f"p_{name}") for name in _ORDER_VALUES})
    .returning(*orders.c)
)
# The UPDATE that sells the claims of the (claim_id, seat_id) rows its source selects
# (places.service.claims_sold_from): the claims table is places'.
ClaimsSold = Callable[[int, Select[Any]], Update]


@lru_cache(maxsize=PER_TENANT_STATEMENTS)
def _sold_order_insert(tenant_id: int, count: int, claims_sold_from: ClaimsSold) -> Select[Any]:
    """PostgreSQL: an order, its `count` seats and their sales in ONE statement, where each
    was a statement of its own (1 + 2 a seat), each costing the server and the driver more
    than its rows (docs/benchmarks.md, "What a PostgreSQL statement costs").

    The seats' ids are drawn from their sequence first (`numbered`, db.numbered: a
    materialised CTE, drawn once), so that each sale names its seat; the seats refer to
    the order by the RETURNING of its insert (`new_order`), and the claims are sold by
    `claims_sold_from`'s UPDATE (places'). A row per seat, in the order given: the order's
    columns, then the seat's, prefixed `seat_`."""
    new_order = _INSERT_ORDER_SENT.cte("new_order")
    given: list[Given] = [
        ("claim_id", Integer()),
        *((name, order_seats.c[name].type) for name in _SEAT_GIVEN),
    ]
    numbered = numbered_rows("order_seats_id_seq", count, given)
    seat_rows = select(
        numbered.c.id,
        bindparam("p_tenant_id", type_=Integer),
        select(new_order.c.id).scalar_subquery(),
        *(numbered.c[name] for name in _SEAT_GIVEN),
    )
    seats = (
        insert(order_seats)
        .from_select(["id", "tenant_id", "order_id", *_SEAT_GIVEN], seat_rows)
        .returning(*order_seats.c)
        .cte("seats")
    )
    sales = select(numbered.c.claim_id, numbered.c.id.label("seat_id"))
    sold = claims_sold_from(tenant_id, sales).cte("sold")
    joined = numbered.join(seats, seats.c.id == numbered.c.id).join(new_order, true())
    seat_columns = (seats.c[c.name].label(f"seat_{c.name}") for c in order_seats.c)
    return (
        select(*new_order.c, *seat_columns).select_from(joined).order_by(numbered.c.n).add_cte(sold)
    )


def _order_params(tenant_id: int, order: NewOrder, now: int) -> dict[str, Any]:
    """Every column of a new order but its id, as `_INSERT_ORDER_SENT`'s parameters."""
    values = {
        "tenant_id": tenant_id,
        "order_date_at": now,
        "discount_name": None,
        "created_at": now,
        "last_changed_at": now,
        **{name: getattr(order, name) for name in _ORDER_GIVEN},
    }
    return {f"p_{name}": values[name] for name in _ORDER_VALUES}


def insert_order(conn: Connection, *, tenant_id: int, order: NewOrder, now: int) -> RowMapping:
    """Insert an order; the row as stored (RETURNING: no second statement to read it back)."""
    (row,) = run_one(conn, _INSERT_ORDER_SENT, _order_params(tenant_id, order, now))
    return row


def insert_order_seats(
    conn: Connection, *, tenant_id: int, order_id: int, seats: Sequence[NewSeat]
) -> list[RowMapping]:
    """One `order_seats` row per seat, in one INSERT (SQLite: one a row, in one call); the
    rows as stored, in the seats' order."""
    if not seats:
        return []
    rows = [
        {"tenant_id": tenant_id, "order_id": order_id, "deleted_at": None, **_seat_values(s)}
        for s in seats
    ]
    return run_each(conn, _INSERT_SEATS, rows)


def insert_sold_order_sent(
    *,
    tenant_id: int,
    order: NewOrder,
    now: int,
    sales: Sequence[tuple[NewSeat, int]],
    expires_at: int | None,
    claims_sold_from: ClaimsSold,
) -> Pipelined:
    """PostgreSQL: insert an order and its seats and sell each seat the place of its claim,
    (seat, claim id) pairs (of holds locked in this transaction), in one statement to send
    in a pipeline; `expires_at` the sales' expiry (None: a sale without), the claims
    updated by `claims_sold_from`. Its rows are for `sold_order_rows`. Without seats, the
    order's insert alone."""
    params = _order_params(tenant_id, order, now)
    if not sales:
        return _INSERT_ORDER_SENT, params
    params["p_until"] = expires_at
    given = [{"claim_id": claim_id, **_seat_values(seat)} for seat, claim_id in sales]
    params.update(numbered_values(given))
    return _sold_order_insert(tenant_id, len(sales), claims_sold_from), params


# The order's columns in `_sold_order_insert`'s rows, and the seat's (its name, its label).
_ORDER_NAMES = tuple(column.name for column in orders.c)
_SEAT_NAMES = tuple((column.name, f"seat_{column.name}") for column in order_seats.c)


def sold_order_rows(
    rows: Sequence[RowMapping],
) -> tuple[Mapping[str, Any], list[Mapping[str, Any]]]:
    """The order and its seats (in the seats' order) as `insert_sold_order_sent` stored
    them, from its statement's rows."""
    first = rows[0]
    if "seat_id" not in first:
        return cast("Mapping[str, Any]", first), []
    order = {name: first[name] for name in _ORDER_NAMES}
    return order, [{name: row[label] for name, label in _SEAT_NAMES} for row in rows]


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
