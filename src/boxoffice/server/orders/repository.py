"""SQL for orders and their seats. Every function is scoped by a keyword-only tenant_id."""

from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert
from sqlalchemy.exc import IntegrityError

from boxoffice.server.catalog.tables import event_blocks, event_capacities, place_claims
from boxoffice.server.db.changes import advanced
from boxoffice.server.db.scoping import scoped_delete, scoped_select, scoped_update
from boxoffice.server.orders.tables import order_seats, orders


def get_order(conn: Connection, *, tenant_id: int, order_id: int) -> RowMapping | None:
    stmt = scoped_select(orders, tenant_id=tenant_id).where(orders.c.id == order_id)
    return conn.execute(stmt).mappings().first()


def list_seats_by_order(
    conn: Connection, *, tenant_id: int, order_ids: Collection[int]
) -> dict[int, list[RowMapping]]:
    """All seats (current and removed) per order id, in seat id order."""
    if not order_ids:
        return {}
    stmt = (
        scoped_select(order_seats, tenant_id=tenant_id)
        .where(order_seats.c.order_id.in_(list(order_ids)))
        .order_by(order_seats.c.order_id, order_seats.c.id)
    )
    seats: dict[int, list[RowMapping]] = defaultdict(list)
    for row in conn.execute(stmt).mappings():
        seats[row["order_id"]].append(row)
    return dict(seats)


def lock_order(conn: Connection, *, tenant_id: int, order_id: int) -> RowMapping | None:
    """The order row, locked until commit on PostgreSQL (SQLite's writer lock suffices)."""
    stmt = (
        scoped_select(orders, tenant_id=tenant_id).where(orders.c.id == order_id).with_for_update()
    )
    return conn.execute(stmt).mappings().first()


def update_order(
    conn: Connection, *, tenant_id: int, order_id: int, values: Mapping[str, Any], now: int
) -> None:
    """Set `values` and move last_changed_at forward."""
    conn.execute(
        scoped_update(orders, tenant_id=tenant_id)
        .where(orders.c.id == order_id)
        .values(last_changed_at=advanced(orders.c.last_changed_at, now), **values)
    )


def get_seat(conn: Connection, *, tenant_id: int, order_id: int, seat_id: int) -> RowMapping | None:
    stmt = scoped_select(order_seats, tenant_id=tenant_id).where(
        order_seats.c.order_id == order_id, order_seats.c.id == seat_id
    )
    return conn.execute(stmt).mappings().first()


def list_current_seats(conn: Connection, *, tenant_id: int, order_id: int) -> list[RowMapping]:
    stmt = (
        scoped_select(order_seats, tenant_id=tenant_id)
        .where(
            order_seats.c.order_id == order_id,
            order_seats.c.deleted_at.is_(None),
        )
        .order_by(order_seats.c.id)
    )
    return list(conn.execute(stmt).mappings())


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


def delete_claims_of_seats(conn: Connection, *, tenant_id: int, seat_ids: Collection[int]) -> None:
    """Release the places sold to these order seats."""
    if seat_ids:
        conn.execute(
            scoped_delete(place_claims, tenant_id=tenant_id).where(
                place_claims.c.order_seat_id.in_(list(seat_ids))
            )
        )


def delete_expired_hold(
    conn: Connection, *, tenant_id: int, event_id: int, place_key: str, now: int
) -> None:
    """Drop a cart hold on this place if it has expired, so the place can be claimed."""
    conn.execute(
        scoped_delete(place_claims, tenant_id=tenant_id).where(
            place_claims.c.event_id == event_id,
            place_claims.c.place_key == place_key,
            place_claims.c.expires_at < now,
        )
    )


def delete_expired_holds_with_prefix(
    conn: Connection, *, tenant_id: int, event_id: int, place_key_prefix: str, now: int
) -> None:
    """Drop expired cart holds on every place whose key starts with the prefix (one rank)."""
    conn.execute(
        scoped_delete(place_claims, tenant_id=tenant_id).where(
            place_claims.c.event_id == event_id,
            place_claims.c.place_key.startswith(place_key_prefix, autoescape=True),
            place_claims.c.expires_at < now,
        )
    )


def list_claimed_place_keys(
    conn: Connection, *, tenant_id: int, event_id: int, place_key_prefix: str
) -> set[str]:
    stmt = scoped_select(place_claims, place_claims.c.place_key, tenant_id=tenant_id).where(
        place_claims.c.event_id == event_id,
        place_claims.c.place_key.startswith(place_key_prefix, autoescape=True),
    )
    return set(conn.execute(stmt).scalars())


def insert_claim(
    conn: Connection,
    *,
    tenant_id: int,
    event_id: int,
    place_key: str,
    rank_id: int,
    order_seat_id: int,
) -> bool:
    """Claim a place for an order seat; False when someone holds it already.

    The savepoint keeps the transaction usable after the unique violation on PostgreSQL.
    """
    stmt = insert(place_claims).values(
        tenant_id=tenant_id,
        event_id=event_id,
        place_key=place_key,
        rank_id=rank_id,
        order_seat_id=order_seat_id,
    )
    try:
        with conn.begin_nested():
            conn.execute(stmt)
    except IntegrityError:
        return False
    return True


def is_hall_seat_blocked(
    conn: Connection, *, tenant_id: int, event_id: int, hall_seat_id: int
) -> bool:
    stmt = scoped_select(event_blocks, event_blocks.c.id, tenant_id=tenant_id).where(
        event_blocks.c.event_id == event_id,
        event_blocks.c.hall_seat_id == hall_seat_id,
    )
    return conn.execute(stmt.limit(1)).first() is not None


def count_sellable_units(conn: Connection, *, tenant_id: int, event_id: int, rank_id: int) -> int:
    """An unreserved event's places of a rank, less those blocked from sale."""
    capacity = conn.execute(
        scoped_select(event_capacities, event_capacities.c.places, tenant_id=tenant_id).where(
            event_capacities.c.event_id == event_id,
            event_capacities.c.rank_id == rank_id,
        )
    ).scalar_one_or_none()
    blocked = conn.execute(
        scoped_select(
            event_blocks, func.coalesce(func.sum(event_blocks.c.places), 0), tenant_id=tenant_id
        ).where(
            event_blocks.c.event_id == event_id,
            event_blocks.c.rank_id == rank_id,
            event_blocks.c.hall_seat_id.is_(None),
        )
    ).scalar_one()
    return max(0, int(capacity or 0) - int(blocked))
