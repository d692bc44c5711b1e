"""Order rules: listing for sync, status changes that release or re-claim places, seat removal."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, RowMapping

from boxoffice.server.catalog import service as catalog
from boxoffice.server.customers import service as customers_service
from boxoffice.server.customers.service import CustomerRecord
from boxoffice.server.db.transactions import Tx, run_pipelined
from boxoffice.server.errors import Conflict, Gone, NotFound
from boxoffice.server.orders import repository
from boxoffice.server.orders.repository import NewOrder as NewOrder
from boxoffice.server.orders.repository import NewSeat as NewSeat
from boxoffice.server.orders.tables import LIVE_STATUSES
from boxoffice.server.places import service as places


@dataclass(frozen=True, slots=True)
class OrderDetail:
    """What OrderExportResource renders: the order, all its seats and its customer."""

    row: Mapping[str, Any]
    seats: list[Mapping[str, Any]]
    customer: CustomerRecord | None


def _mapping(row: RowMapping) -> Mapping[str, Any]:
    # RowMapping is typed with `str | Column` keys; rows of select(table) are keyed by name.
    return cast("Mapping[str, Any]", row)


@dataclass(frozen=True, slots=True)
class InsertedOrder:
    """A new order as stored: its row and its seats' rows, in the seats' order."""

    row: Mapping[str, Any]
    seats: list[Mapping[str, Any]]


def insert_order(
    conn: Connection, *, tenant_id: int, order: NewOrder, seats: Sequence[NewSeat], now: int
) -> InsertedOrder:
    """Store a new order and its seats, and return them as stored (what a re-read would
    give, without the re-read). Claiming their places is the caller's part."""
    row = repository.insert_order(conn, tenant_id=tenant_id, order=order, now=now)
    seat_rows = repository.insert_order_seats(
        conn, tenant_id=tenant_id, order_id=int(row["id"]), seats=seats
    )
    return InsertedOrder(row=_mapping(row), seats=[_mapping(s) for s in seat_rows])


def insert_sold_order(
    conn: Connection,
    *,
    tenant_id: int,
    order: NewOrder,
    seats: Sequence[NewSeat],
    holds: Sequence[places.LockedHold],
    now: int,
    reserved_until: int | None = None,
    last: bool = False,
) -> InsertedOrder:
    """Store a new order and its seats, and sell each seat the place of its locked hold
    (`holds`, in the seats' order: places.sell); the order and seats as stored. With
    `reserved_until` the sales are a reservation's. `last`: this is the write transaction's
    last work; on PostgreSQL its COMMIT is sent with it.

    On PostgreSQL in ONE round trip (run_pipelined): the order, its seats and their sales
    in one statement (repository.insert_sold_order_sent), then what is kept of the sales,
    whose rows every checkout of the event changes and which stay locked until commit."""
    if conn.dialect.name != "postgresql":
        inserted = insert_order(conn, tenant_id=tenant_id, order=order, seats=seats, now=now)
        places.sell(
            conn,
            tenant_id=tenant_id,
            sales=[(h, int(s["id"])) for h, s in zip(holds, inserted.seats, strict=True)],
            reserved_until=reserved_until,
            last=last,
        )
        return inserted
    sold = repository.insert_sold_order_sent(
        tenant_id=tenant_id,
        order=order,
        now=now,
        sales=[(seat, hold.claim_id) for seat, hold in zip(seats, holds, strict=True)],
        expires_at=reserved_until,
        claims_sold_from=places.claims_sold_from,
    )
    kept = places.sales_kept_sent(tenant_id=tenant_id, holds=holds, reserved_until=reserved_until)
    rows = run_pipelined(conn, [sold, *kept], commit=last)
    row, seat_rows = repository.sold_order_rows(rows[0])
    return InsertedOrder(row=row, seats=seat_rows)


def get_order(conn: Connection, *, tenant_id: int, order_id: int) -> Mapping[str, Any]:
    row = repository.get_order(conn, tenant_id=tenant_id, order_id=order_id)
    if row is None:
        raise NotFound("Order")
    return _mapping(row)


def get_order_detail(conn: Connection, *, tenant_id: int, order_id: int) -> OrderDetail:
    row = get_order(conn, tenant_id=tenant_id, order_id=order_id)
    seats = repository.list_seats_by_order(conn, tenant_id=tenant_id, order_ids=[order_id])
    customer = (
        None
        if row["customer_id"] is None
        else customers_service.get_customer(
            conn, tenant_id=tenant_id, customer_id=row["customer_id"]
        )
    )
    return OrderDetail(
        row=row, seats=[_mapping(s) for s in seats.get(order_id, [])], customer=customer
    )


def _locked(conn: Connection, *, tenant_id: int, order_id: int) -> RowMapping:
    row = repository.lock_order(conn, tenant_id=tenant_id, order_id=order_id)
    if row is None:
        raise NotFound("Order")
    return row


def update_order(
    tx: Tx, *, tenant_id: int, order_id: int, changes: Mapping[str, Any]
) -> Mapping[str, Any]:
    """Change status, payment status or discount; nothing is written if nothing differs.

    Leaving the live statuses releases the order's places; coming back re-claims them, or
    fails with 409 (and writes nothing) if any of them has been taken meanwhile.
    """
    row = _locked(tx.conn, tenant_id=tenant_id, order_id=order_id)
    values = {column: value for column, value in changes.items() if row[column] != value}
    if not values:
        return _mapping(row)
    was_live = row["status"] in LIVE_STATUSES
    is_live = values.get("status", row["status"]) in LIVE_STATUSES
    if was_live and not is_live:
        seats = repository.list_current_seats(tx.conn, tenant_id=tenant_id, order_id=order_id)
        places.release_sales(tx.conn, tenant_id=tenant_id, order_seat_ids=[s["id"] for s in seats])
    elif is_live and not was_live:
        _claim_places(tx, tenant_id=tenant_id, order_id=order_id)
    repository.update_order(
        tx.conn, tenant_id=tenant_id, order_id=order_id, values=values, now=tx.now
    )
    return get_order(tx.conn, tenant_id=tenant_id, order_id=order_id)


class ReservationExpired(Gone):
    def __init__(self) -> None:
        super().__init__("The reservation has expired; its places are no longer held.")


def confirm_reservation(tx: Tx, *, tenant_id: int, order_id: int) -> Mapping[str, Any]:
    """A paid reservation becomes a regular, paid order whose places no longer expire.

    Refused (410) once its timeOut has passed or any of its places was taken as expired.
    """
    row = _locked(tx.conn, tenant_id=tenant_id, order_id=order_id)
    if row["status"] != "res" or row["time_out_at"] is None or row["time_out_at"] <= tx.now:
        raise ReservationExpired()
    seat_ids = [
        int(s["id"])
        for s in repository.list_current_seats(tx.conn, tenant_id=tenant_id, order_id=order_id)
    ]
    if not places.keep_reserved(tx.conn, tenant_id=tenant_id, order_seat_ids=seat_ids, now=tx.now):
        raise ReservationExpired()
    values = {"status": "ord", "payment_status": "paid", "time_out_at": None}
    repository.update_order(
        tx.conn, tenant_id=tenant_id, order_id=order_id, values=values, now=tx.now
    )
    return get_order(tx.conn, tenant_id=tenant_id, order_id=order_id)


def release_reservation(tx: Tx, *, tenant_id: int, order_id: int) -> Mapping[str, Any]:
    """Cancel an unpaid reservation (cancelled by the buyer, or not paid in time): its
    places are free again. An order that is no longer a reservation is left as it is."""
    row = _locked(tx.conn, tenant_id=tenant_id, order_id=order_id)
    if row["status"] != "res":
        return _mapping(row)
    return update_order(
        tx,
        tenant_id=tenant_id,
        order_id=order_id,
        changes={"status": "cancel", "time_out_at": None},
    )


def _claim_places(tx: Tx, *, tenant_id: int, order_id: int) -> None:
    for seat in repository.list_current_seats(tx.conn, tenant_id=tenant_id, order_id=order_id):
        if not _claim_place(tx, tenant_id=tenant_id, seat=seat):
            raise Conflict(
                f"The place of seat {seat['id']} (event {seat['event_id']}) is no longer "
                "available; the order keeps its status."
            )


def _claim_place(tx: Tx, *, tenant_id: int, seat: RowMapping) -> bool:
    """Claim the seat's place again: its own hall seat, or any free unit of its rank."""
    event_id, rank_id = seat["event_id"], seat["rank_id"]
    if seat["hall_seat_id"] is not None:
        if catalog.is_hall_seat_blocked(
            tx.conn, tenant_id=tenant_id, event_id=event_id, hall_seat_id=seat["hall_seat_id"]
        ):
            return False
        return places.claim_seat(
            tx.conn,
            tenant_id=tenant_id,
            event_id=event_id,
            hall_seat_id=seat["hall_seat_id"],
            rank_id=rank_id,
            order_seat_id=seat["id"],
            now=tx.now,
        )
    units = catalog.count_sellable_units(
        tx.conn, tenant_id=tenant_id, event_id=event_id, rank_id=rank_id
    )
    return places.claim_any_unit(
        tx.conn,
        tenant_id=tenant_id,
        event_id=event_id,
        rank_id=rank_id,
        units=units,
        order_seat_id=seat["id"],
        now=tx.now,
    )


def remove_seat(tx: Tx, *, tenant_id: int, order_id: int, seat_id: int) -> OrderDetail:
    """Move a seat to deletedSeats, release its place and recompute the order's amount."""
    order = _locked(tx.conn, tenant_id=tenant_id, order_id=order_id)
    seat = repository.get_seat(tx.conn, tenant_id=tenant_id, order_id=order_id, seat_id=seat_id)
    if seat is None or seat["deleted_at"] is not None:
        raise NotFound("Seat")
    repository.update_seat_deleted(tx.conn, tenant_id=tenant_id, seat_id=seat_id, now=tx.now)
    places.release_sales(tx.conn, tenant_id=tenant_id, order_seat_ids=[seat_id])
    seats_cents = repository.sum_current_seat_cents(tx.conn, tenant_id=tenant_id, order_id=order_id)
    amount = seats_cents + order["donation_cents"] + order["fee_cents"]
    repository.update_order(
        tx.conn, tenant_id=tenant_id, order_id=order_id, values={"amount_cents": amount}, now=tx.now
    )
    return get_order_detail(tx.conn, tenant_id=tenant_id, order_id=order_id)
