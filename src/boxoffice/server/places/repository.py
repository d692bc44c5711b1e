"""SQL for place claims. Every function takes a keyword-only tenant_id."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, String, bindparam, cast, exists, func, insert, literal, or_
from sqlalchemy.exc import IntegrityError

from boxoffice.server.catalog.tables import event_blocks, hall_seats, prices
from boxoffice.server.db.scoping import (
    scoped_delete,
    scoped_select,
    scoped_update,
    tenant_filter,
)
from boxoffice.server.places.tables import place_claims


@dataclass(frozen=True, slots=True)
class NewHold:
    """A cart item's hold on one place of an event."""

    event_id: int
    place_key: str
    rank_id: int
    cart_item_id: int


def insert_holds(
    conn: Connection, *, tenant_id: int, holds: Sequence[NewHold], expires_at: int
) -> bool:
    """Insert every hold, or none: False when a place is claimed already (the unique key).

    The savepoint is rolled back on the unique violation, so nothing of this call remains
    and the transaction stays usable (PostgreSQL).
    """
    rows = [
        {
            "tenant_id": tenant_id,
            "event_id": hold.event_id,
            "place_key": hold.place_key,
            "rank_id": hold.rank_id,
            "cart_item_id": hold.cart_item_id,
            "expires_at": expires_at,
        }
        for hold in holds
    ]
    if not rows:
        return True
    try:
        with conn.begin_nested():
            conn.execute(insert(place_claims), rows)
    except IntegrityError:
        return False
    return True


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


def list_live_claims(
    conn: Connection, *, tenant_id: int, event_id: int, now: int
) -> list[tuple[str, int]]:
    """(place_key, rank_id) of every place sold or held by an unexpired hold."""
    stmt = scoped_select(
        place_claims, place_claims.c.place_key, place_claims.c.rank_id, tenant_id=tenant_id
    ).where(
        place_claims.c.event_id == event_id,
        or_(place_claims.c.expires_at.is_(None), place_claims.c.expires_at > now),
    )
    return [(key, rank_id) for key, rank_id in conn.execute(stmt)]


def list_claimed_place_keys(
    conn: Connection, *, tenant_id: int, event_id: int, place_key_prefix: str
) -> set[str]:
    """The keys starting with the prefix that are claimed (sold or held, expired or not)."""
    stmt = scoped_select(place_claims, place_claims.c.place_key, tenant_id=tenant_id).where(
        place_claims.c.event_id == event_id,
        place_claims.c.place_key.startswith(place_key_prefix, autoescape=True),
    )
    return set(conn.execute(stmt).scalars())


def delete_expired_holds(
    conn: Connection,
    *,
    tenant_id: int,
    event_id: int,
    now: int,
    place_key: str | None = None,
    place_key_prefix: str | None = None,
) -> int:
    """Delete the event's claims that have expired by `now` (cart holds, and the places of
    unpaid reservations): all of them, or those on one place, or on the places whose keys
    start with a prefix (one rank's units)."""
    stmt = scoped_delete(place_claims, tenant_id=tenant_id).where(
        place_claims.c.event_id == event_id,
        place_claims.c.expires_at.is_not(None),
        place_claims.c.expires_at <= now,
    )
    if place_key is not None:
        stmt = stmt.where(place_claims.c.place_key == place_key)
    if place_key_prefix is not None:
        stmt = stmt.where(place_claims.c.place_key.startswith(place_key_prefix, autoescape=True))
    return conn.execute(stmt).rowcount


def update_hold_expiry(
    conn: Connection, *, tenant_id: int, cart_item_ids: Collection[int], expires_at: int
) -> int:
    """Move the holds of these cart items to `expires_at`; returns how many there are."""
    if not cart_item_ids:
        return 0
    stmt = (
        scoped_update(place_claims, tenant_id=tenant_id)
        .where(
            place_claims.c.order_seat_id.is_(None),
            place_claims.c.cart_item_id.in_(list(cart_item_ids)),
        )
        .values(expires_at=expires_at)
    )
    return conn.execute(stmt).rowcount


def delete_holds(conn: Connection, *, tenant_id: int, cart_item_ids: Collection[int]) -> int:
    if not cart_item_ids:
        return 0
    stmt = scoped_delete(place_claims, tenant_id=tenant_id).where(
        place_claims.c.order_seat_id.is_(None),
        place_claims.c.cart_item_id.in_(list(cart_item_ids)),
    )
    return conn.execute(stmt).rowcount


def lock_live_holds(
    conn: Connection, *, tenant_id: int, cart_item_ids: Collection[int], now: int
) -> dict[int, int]:
    """{cart item id: claim id} of these items' unexpired holds, row-locked until commit."""
    if not cart_item_ids:
        return {}
    stmt = (
        scoped_select(
            place_claims, place_claims.c.cart_item_id, place_claims.c.id, tenant_id=tenant_id
        )
        .where(
            place_claims.c.order_seat_id.is_(None),
            place_claims.c.expires_at > now,
            place_claims.c.cart_item_id.in_(list(cart_item_ids)),
        )
        .with_for_update()
    )
    return {int(item_id): int(claim_id) for item_id, claim_id in conn.execute(stmt)}


def update_claims_sold(
    conn: Connection, *, tenant_id: int, sales: Sequence[tuple[int, int]], expires_at: int | None
) -> None:
    """Turn holds into sales: (claim id, order seat id) pairs. A sale has no expiry; the
    places of a reservation expire with it (`expires_at`)."""
    if not sales:
        return
    stmt = (
        scoped_update(place_claims, tenant_id=tenant_id)
        .where(place_claims.c.id == bindparam("p_id"))
        .values(order_seat_id=bindparam("p_seat"), cart_item_id=None, expires_at=expires_at)
    )
    conn.execute(stmt, [{"p_id": claim_id, "p_seat": seat_id} for claim_id, seat_id in sales])


def delete_claims_of_seats(conn: Connection, *, tenant_id: int, seat_ids: Collection[int]) -> None:
    """Release the places sold to these order seats."""
    if seat_ids:
        conn.execute(
            scoped_delete(place_claims, tenant_id=tenant_id).where(
                place_claims.c.order_seat_id.in_(list(seat_ids))
            )
        )


def count_free_seats(
    conn: Connection, *, tenant_id: int, event_id: int, hall_id: int, now: int
) -> int:
    """How many seats a reserved event can still sell, counted by the database: the hall's
    seats of a rank the event has prices for, not blocked, without a live claim.

    The same rule as `EventPlaces.available` summed over ranks, without reading every seat
    of the hall (tests/places/test_free_seats.py checks that they agree).
    """
    price_ranks = scoped_select(prices, prices.c.rank_id, tenant_id=tenant_id).where(
        prices.c.event_id == event_id
    )
    blocked = scoped_select(event_blocks, event_blocks.c.hall_seat_id, tenant_id=tenant_id).where(
        event_blocks.c.event_id == event_id, event_blocks.c.hall_seat_id.is_not(None)
    )
    claimed = (
        exists()
        .where(
            tenant_filter(place_claims, tenant_id=tenant_id),
            place_claims.c.event_id == event_id,
            place_claims.c.place_key == literal("s", String) + cast(hall_seats.c.id, String),
            or_(place_claims.c.expires_at.is_(None), place_claims.c.expires_at > now),
        )
        .correlate(hall_seats)
    )
    stmt = scoped_select(hall_seats, func.count(), tenant_id=tenant_id).where(
        hall_seats.c.hall_id == hall_id,
        hall_seats.c.rank_id.in_(price_ranks),
        hall_seats.c.id.not_in(blocked),
        ~claimed,
    )
    return int(conn.execute(stmt).scalar_one())


def lock_live_claims_of_seats(
    conn: Connection, *, tenant_id: int, seat_ids: Collection[int], now: int
) -> int:
    """How many of these order seats' claims are live (sold, or reserved until after
    `now`), row-locked until commit so that no claimer takes them as expired meanwhile."""
    if not seat_ids:
        return 0
    stmt = (
        scoped_select(place_claims, place_claims.c.id, tenant_id=tenant_id)
        .where(
            place_claims.c.order_seat_id.in_(list(seat_ids)),
            or_(place_claims.c.expires_at.is_(None), place_claims.c.expires_at > now),
        )
        .with_for_update()
    )
    return len(conn.execute(stmt).all())


def update_claims_without_expiry(
    conn: Connection, *, tenant_id: int, seat_ids: Collection[int]
) -> None:
    if seat_ids:
        conn.execute(
            scoped_update(place_claims, tenant_id=tenant_id)
            .where(place_claims.c.order_seat_id.in_(list(seat_ids)))
            .values(expires_at=None)
        )
