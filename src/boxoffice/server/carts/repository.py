"""SQL for carts, holds and checkout. Every function takes a keyword-only tenant_id."""

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, bindparam, insert
from sqlalchemy.exc import IntegrityError

from boxoffice.server.carts.tables import cart_items, carts
from boxoffice.server.catalog.tables import events, place_claims
from boxoffice.server.db.scoping import scoped_delete, scoped_select, scoped_update
from boxoffice.server.orders.tables import order_seats, orders


@dataclass(frozen=True, slots=True)
class NewItem:
    """A cart item to insert; a ticket also carries the place it holds."""

    item_type: str
    event_id: int | None
    price_id: str
    price_name: str
    rank_id: int
    hall_seat_id: int | None
    row_nr: int | None
    seat_nr: int | None
    description: str
    amount_cents: int
    place_key: str | None


@dataclass(frozen=True, slots=True)
class NewOrder:
    order_key: str
    customer_id: int | None
    payment_status: str
    channel: str
    payment_method_id: int
    handling_text: str
    amount_cents: int
    fee_cents: int
    donation_cents: int


def insert_cart(
    conn: Connection, *, tenant_id: int, cart_id: str, now: int, expires_at: int
) -> None:
    conn.execute(
        insert(carts).values(id=cart_id, tenant_id=tenant_id, created_at=now, expires_at=expires_at)
    )


def get_cart(
    conn: Connection, *, tenant_id: int, cart_id: str, lock: bool = False
) -> RowMapping | None:
    """The cart; `lock` takes its row lock so that changes to one cart are serialised."""
    stmt = scoped_select(carts, tenant_id=tenant_id).where(carts.c.id == cart_id)
    if lock:
        stmt = stmt.with_for_update()
    return conn.execute(stmt).mappings().first()


def update_cart_expiry(conn: Connection, *, tenant_id: int, cart_id: str, expires_at: int) -> None:
    conn.execute(
        scoped_update(carts, tenant_id=tenant_id)
        .where(carts.c.id == cart_id)
        .values(expires_at=expires_at)
    )


def update_cart_closed(conn: Connection, *, tenant_id: int, cart_id: str, now: int) -> None:
    conn.execute(
        scoped_update(carts, tenant_id=tenant_id).where(carts.c.id == cart_id).values(closed_at=now)
    )


def list_items(conn: Connection, *, tenant_id: int, cart_id: str) -> list[RowMapping]:
    stmt = (
        scoped_select(cart_items, tenant_id=tenant_id)
        .where(cart_items.c.cart_id == cart_id)
        .order_by(cart_items.c.id)
    )
    return list(conn.execute(stmt).mappings())


def get_item(conn: Connection, *, tenant_id: int, cart_id: str, item_id: int) -> RowMapping | None:
    stmt = scoped_select(cart_items, tenant_id=tenant_id).where(
        cart_items.c.cart_id == cart_id, cart_items.c.id == item_id
    )
    return conn.execute(stmt).mappings().first()


def delete_item(conn: Connection, *, tenant_id: int, item_id: int) -> None:
    conn.execute(scoped_delete(cart_items, tenant_id=tenant_id).where(cart_items.c.id == item_id))


def insert_donation(conn: Connection, *, tenant_id: int, cart_id: str, item: NewItem) -> None:
    values = asdict(item)
    del values["place_key"]
    conn.execute(insert(cart_items).values(tenant_id=tenant_id, cart_id=cart_id, **values))


def insert_held_tickets(
    conn: Connection, *, tenant_id: int, cart_id: str, items: Sequence[NewItem], expires_at: int
) -> bool:
    """Insert ticket items and a hold on each one's place, all or nothing.

    False when a place was claimed by someone else in the meantime (the unique key of
    `place_claims`): the savepoint is rolled back, so nothing of this call remains and the
    caller may pick other places.
    """
    try:
        with conn.begin_nested():
            for item in items:
                values = asdict(item)
                place_key = values.pop("place_key")
                item_id = conn.execute(
                    insert(cart_items)
                    .values(tenant_id=tenant_id, cart_id=cart_id, **values)
                    .returning(cart_items.c.id)
                ).scalar_one()
                conn.execute(
                    insert(place_claims).values(
                        tenant_id=tenant_id,
                        event_id=item.event_id,
                        place_key=place_key,
                        rank_id=item.rank_id,
                        cart_item_id=item_id,
                        expires_at=expires_at,
                    )
                )
    except IntegrityError:
        return False
    return True


def lock_events(conn: Connection, *, tenant_id: int, event_ids: Collection[int]) -> None:
    """Serialise claiming per event, in ascending id order so that two carts never deadlock.

    Claims are still guarded by the unique key; the lock only spares concurrent buyers of
    one event from picking the same best seats over and over. FOR NO KEY UPDATE does not
    block inserts that merely reference the event. SQLite renders no lock clause: BEGIN
    IMMEDIATE serialises its writers already.
    """
    for event_id in sorted(event_ids):
        conn.execute(
            scoped_select(events, events.c.event_id, tenant_id=tenant_id)
            .where(events.c.event_id == event_id)
            .with_for_update(key_share=True)
        ).all()


def delete_expired_holds(conn: Connection, *, tenant_id: int, event_id: int, now: int) -> int:
    stmt = scoped_delete(place_claims, tenant_id=tenant_id).where(
        place_claims.c.event_id == event_id,
        place_claims.c.order_seat_id.is_(None),
        place_claims.c.expires_at.is_not(None),
        place_claims.c.expires_at <= now,
    )
    return conn.execute(stmt).rowcount


def _item_ids_of_cart(tenant_id: int, cart_id: str) -> Select[Any]:
    return scoped_select(cart_items, cart_items.c.id, tenant_id=tenant_id).where(
        cart_items.c.cart_id == cart_id
    )


def update_hold_expiry(conn: Connection, *, tenant_id: int, cart_id: str, expires_at: int) -> int:
    """Move every hold of the cart to `expires_at`; returns how many holds there are."""
    stmt = (
        scoped_update(place_claims, tenant_id=tenant_id)
        .where(
            place_claims.c.order_seat_id.is_(None),
            place_claims.c.cart_item_id.in_(_item_ids_of_cart(tenant_id, cart_id)),
        )
        .values(expires_at=expires_at)
    )
    return conn.execute(stmt).rowcount


def delete_holds_of_cart(conn: Connection, *, tenant_id: int, cart_id: str) -> int:
    stmt = scoped_delete(place_claims, tenant_id=tenant_id).where(
        place_claims.c.order_seat_id.is_(None),
        place_claims.c.cart_item_id.in_(_item_ids_of_cart(tenant_id, cart_id)),
    )
    return conn.execute(stmt).rowcount


def delete_hold_of_item(conn: Connection, *, tenant_id: int, item_id: int) -> int:
    stmt = scoped_delete(place_claims, tenant_id=tenant_id).where(
        place_claims.c.order_seat_id.is_(None),
        place_claims.c.cart_item_id == item_id,
    )
    return conn.execute(stmt).rowcount


def lock_live_holds(conn: Connection, *, tenant_id: int, cart_id: str, now: int) -> dict[int, int]:
    """{cart item id: claim id} of the cart's unexpired holds, row-locked until commit.

    The lock keeps a concurrent claimer from deleting a hold (as expired) while the
    checkout converts it into a sale.
    """
    stmt = (
        scoped_select(
            place_claims, place_claims.c.cart_item_id, place_claims.c.id, tenant_id=tenant_id
        )
        .where(
            place_claims.c.order_seat_id.is_(None),
            place_claims.c.expires_at > now,
            place_claims.c.cart_item_id.in_(_item_ids_of_cart(tenant_id, cart_id)),
        )
        .with_for_update()
    )
    return {int(item_id): int(claim_id) for item_id, claim_id in conn.execute(stmt)}


def insert_order(conn: Connection, *, tenant_id: int, order: NewOrder, now: int) -> int:
    stmt = (
        insert(orders)
        .values(
            tenant_id=tenant_id,
            status="ord",
            order_date_at=now,
            time_out_at=None,
            discount_name=None,
            created_at=now,
            last_changed_at=now,
            **asdict(order),
        )
        .returning(orders.c.id)
    )
    return int(conn.execute(stmt).scalar_one())


def insert_order_seats(
    conn: Connection, *, tenant_id: int, order_id: int, tickets: Sequence[RowMapping]
) -> list[int]:
    """One `order_seats` row per ticket item; returns their ids in the items' order."""
    ids: list[int] = []
    for item in tickets:
        stmt = (
            insert(order_seats)
            .values(
                tenant_id=tenant_id,
                order_id=order_id,
                event_id=item["event_id"],
                rank_id=item["rank_id"],
                hall_seat_id=item["hall_seat_id"],
                row_nr=item["row_nr"],
                seat_nr=item["seat_nr"],
                price_id=item["price_id"],
                price_name=item["price_name"],
                amount_cents=item["amount_cents"],
                deleted_at=None,
            )
            .returning(order_seats.c.id)
        )
        ids.append(int(conn.execute(stmt).scalar_one()))
    return ids


def update_claims_sold(
    conn: Connection, *, tenant_id: int, sales: Sequence[tuple[int, int]]
) -> None:
    """Turn holds into sales: (claim id, order seat id) pairs; a sale has no expiry."""
    if not sales:
        return
    stmt = (
        scoped_update(place_claims, tenant_id=tenant_id)
        .where(place_claims.c.id == bindparam("p_id"))
        .values(order_seat_id=bindparam("p_seat"), cart_item_id=None, expires_at=None)
    )
    conn.execute(stmt, [{"p_id": claim_id, "p_seat": seat_id} for claim_id, seat_id in sales])
