"""A small catalog, a customer and orders with seats and place claims, inserted with Core SQL.

Kept local on purpose: the order tests must not depend on the catalog loader or the cart
and checkout code. Reserved event 95 sells hall seats of rank 42 (24.50); unreserved event
96 sells `places` units of rank 43 (15.00).
"""

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, Insert, insert, select

from boxoffice.server.catalog.tables import (
    event_blocks,
    event_capacities,
    events,
    hall_seats,
    hall_sections,
    halls,
    prices,
    productions,
    ranks,
)
from boxoffice.server.customers.tables import customers
from boxoffice.server.orders.tables import LIVE_STATUSES, order_seats, orders
from boxoffice.server.places.tables import place_claims
from boxoffice.server.values.clock import now_micros
from tests.conftest import Client

RESERVED_EVENT = 95
UNRESERVED_EVENT = 96
RESERVED_RANK = 42
UNRESERVED_RANK = 43
RESERVED_PRICE = ("P95std", "Standard", 2450)
UNRESERVED_PRICE = ("P96ga", "Vrije plaats", 1500)
HOUR = 3_600_000_000

ORDER_KEYS = [
    "orderId",
    "orderKey",
    "customerId",
    "orderStatus",
    "orderPaymentStatus",
    "orderDate",
    "timeOut",
    "amount",
    "orderDonation",
    "lastChanged",
    "handlingTextPayment",
    "discountName",
]
EXPORT_KEYS = [
    "orderId",
    "orderKey",
    "customerId",
    "orderStatus",
    "orderPaymentStatus",
    "orderChannel",
    "orderDate",
    "timeOut",
    "lastChanged",
    "amount",
    "fee",
    "donation",
    "handlingTextPayment",
    "discountName",
    "seats",
    "deletedSeats",
    "user",
]
SEAT_KEYS = ["seatId", "eventId", "rankId", "rowNr", "seatNr", "amount", "priceId", "priceName"]


@dataclass
class World:
    """One client's catalog and customer."""

    client: Client
    hall_seat_ids: list[int]
    customer_id: int
    places: int

    @property
    def tenant_id(self) -> int:
        return self.client.tenant.id


@dataclass
class Order:
    id: int
    seat_ids: list[int] = field(default_factory=list)


def new_id(conn: Connection, stmt: Insert) -> int:
    key = conn.execute(stmt).inserted_primary_key
    assert key is not None
    return int(key[0])


def build_world(engine: Engine, client: Client, *, places: int = 3) -> World:
    tenant_id = client.tenant.id
    now = now_micros()
    with engine.begin() as conn:
        conn.execute(
            insert(ranks),
            [
                {"tenant_id": tenant_id, "rank_id": RESERVED_RANK, "name": "Rang 1"},
                {"tenant_id": tenant_id, "rank_id": UNRESERVED_RANK, "name": "Rang 2"},
            ],
        )
        conn.execute(insert(halls).values(tenant_id=tenant_id, hall_id=1, name="Grote Zaal"))
        conn.execute(
            insert(hall_sections).values(tenant_id=tenant_id, hall_id=1, section_id=5, name="P")
        )
        seat_ids = [
            new_id(
                conn,
                insert(hall_seats).values(
                    tenant_id=tenant_id,
                    hall_id=1,
                    section_id=5,
                    row_nr=1,
                    seat_nr=n,
                    rank_id=RESERVED_RANK,
                ),
            )
            for n in range(1, 5)
        ]
        conn.execute(insert(productions).values(tenant_id=tenant_id, production_id=94, name="H"))
        for event_id, seating in ((RESERVED_EVENT, "reserved"), (UNRESERVED_EVENT, "unreserved")):
            conn.execute(
                insert(events).values(
                    tenant_id=tenant_id,
                    event_id=event_id,
                    production_id=94,
                    name="Hamlet",
                    start_at=now + 24 * HOUR,
                    end_at=now + 26 * HOUR,
                    hall_id=1,
                    seating=seating,
                )
            )
        conn.execute(
            insert(event_capacities).values(
                tenant_id=tenant_id,
                event_id=UNRESERVED_EVENT,
                rank_id=UNRESERVED_RANK,
                places=places,
            )
        )
        for event_id, rank_id, (price_id, name, cents) in (
            (RESERVED_EVENT, RESERVED_RANK, RESERVED_PRICE),
            (UNRESERVED_EVENT, UNRESERVED_RANK, UNRESERVED_PRICE),
        ):
            conn.execute(
                insert(prices).values(
                    tenant_id=tenant_id,
                    price_id=price_id,
                    event_id=event_id,
                    name=name,
                    rank_id=rank_id,
                    amount_cents=cents,
                )
            )
        customer_id = new_id(
            conn,
            insert(customers).values(
                tenant_id=tenant_id,
                email="anna@example.org",
                email_key="anna@example.org",
                last_name="Jansen",
                credit_cents=0,
                created_at=now,
                last_changed_at=now,
            ),
        )
    return World(client=client, hall_seat_ids=seat_ids, customer_id=customer_id, places=places)


@pytest.fixture
def world(engine: Engine, client: Client) -> World:
    return build_world(engine, client)


def order_key() -> str:
    raw = uuid.uuid4().hex
    return "-".join(raw[i : i + 5] for i in (0, 5, 10, 15))


def make_order(
    engine: Engine,
    world: World,
    *,
    reserved: tuple[int, ...] = (),
    unreserved: int = 0,
    status: str = "ord",
    payment_status: str = "paid",
    anonymous: bool = False,
    donation_cents: int = 0,
    fee_cents: int = 0,
    discount_name: str | None = None,
    last_changed_at: int | None = None,
) -> Order:
    """An order with seats on hall seats `reserved` (indexes) and `unreserved` units.

    A live order also gets its place claims, as checkout would have made them.
    """
    tenant_id = world.tenant_id
    now = now_micros()
    seat_cents = len(reserved) * RESERVED_PRICE[2] + unreserved * UNRESERVED_PRICE[2]
    with engine.begin() as conn:
        order_id = new_id(
            conn,
            insert(orders).values(
                tenant_id=tenant_id,
                order_key=order_key(),
                customer_id=None if anonymous else world.customer_id,
                status=status,
                payment_status=payment_status,
                channel="www",
                order_date_at=now,
                payment_method_id=1,
                handling_text="iDEAL",
                discount_name=discount_name,
                amount_cents=seat_cents + donation_cents + fee_cents,
                fee_cents=fee_cents,
                donation_cents=donation_cents,
                created_at=now,
                last_changed_at=now if last_changed_at is None else last_changed_at,
            ),
        )
        order = Order(id=order_id)
        lines: list[tuple[int, int | None, int | None]] = [
            (RESERVED_EVENT, world.hall_seat_ids[i], i + 1) for i in reserved
        ] + [(UNRESERVED_EVENT, None, None)] * unreserved
        for event_id, hall_seat_id, seat_nr in lines:
            price_id, price_name, cents = (
                RESERVED_PRICE if event_id == RESERVED_EVENT else UNRESERVED_PRICE
            )
            rank_id = RESERVED_RANK if event_id == RESERVED_EVENT else UNRESERVED_RANK
            seat_id = new_id(
                conn,
                insert(order_seats).values(
                    tenant_id=tenant_id,
                    order_id=order_id,
                    event_id=event_id,
                    rank_id=rank_id,
                    hall_seat_id=hall_seat_id,
                    row_nr=None if seat_nr is None else 1,
                    seat_nr=seat_nr,
                    price_id=price_id,
                    price_name=price_name,
                    amount_cents=cents,
                ),
            )
            order.seat_ids.append(seat_id)
            if status in LIVE_STATUSES:
                if hall_seat_id is not None:
                    key = f"s{hall_seat_id}"
                else:
                    taken = set(
                        conn.execute(
                            select(place_claims.c.place_key).where(
                                place_claims.c.tenant_id == tenant_id,
                                place_claims.c.event_id == event_id,
                            )
                        ).scalars()
                    )
                    key = next(
                        f"u{rank_id}:{n}"
                        for n in range(1, world.places + 1)
                        if f"u{rank_id}:{n}" not in taken
                    )
                conn.execute(
                    insert(place_claims).values(
                        tenant_id=tenant_id,
                        event_id=event_id,
                        place_key=key,
                        rank_id=rank_id,
                        order_seat_id=seat_id,
                    )
                )
    return order


def add_hold(
    engine: Engine, world: World, *, event_id: int, place_key: str, rank_id: int, expires_at: int
) -> None:
    """A cart's hold on a place (the cart itself is irrelevant here)."""
    with engine.begin() as conn:
        conn.execute(
            insert(place_claims).values(
                tenant_id=world.tenant_id,
                event_id=event_id,
                place_key=place_key,
                rank_id=rank_id,
                cart_item_id=999_999,
                expires_at=expires_at,
            )
        )


def add_block(engine: Engine, world: World, *, hall_seat_index: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(event_blocks).values(
                tenant_id=world.tenant_id,
                event_id=RESERVED_EVENT,
                block_type="tech",
                hall_seat_id=world.hall_seat_ids[hall_seat_index],
            )
        )


def claims(engine: Engine, world: World) -> list[tuple[Any, ...]]:
    """(event, place key, order seat, cart item) of every claim of the client, sorted."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                place_claims.c.event_id,
                place_claims.c.place_key,
                place_claims.c.order_seat_id,
                place_claims.c.cart_item_id,
            ).where(place_claims.c.tenant_id == world.tenant_id)
        )
        return sorted(tuple(r) for r in rows)


def state(engine: Engine, world: World) -> dict[str, list[dict[str, Any]]]:
    """Every order, seat, claim and customer row of the client: to prove what changed."""
    found: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for table in (orders, order_seats, place_claims, customers):
            rows = conn.execute(
                select(table).where(table.c.tenant_id == world.tenant_id).order_by(table.c.id)
            ).mappings()
            found[table.name] = [dict(r) for r in rows]
    return found


def order_row(engine: Engine, order_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(conn.execute(select(orders).where(orders.c.id == order_id)).mappings().one())


def only_changed(
    before: dict[str, list[dict[str, Any]]],
    after: dict[str, list[dict[str, Any]]],
    table: str,
    row_id: int,
) -> dict[str, Any]:
    """Assert that nothing but row `row_id` of `table` differs; return its changed columns."""
    for name in before:
        if name != table:
            assert after[name] == before[name], name
    old = {r["id"]: r for r in before[table]}
    new = {r["id"]: r for r in after[table]}
    assert old.keys() == new.keys()
    for key in old:
        if key != row_id:
            assert new[key] == old[key], (table, key)
    return {c: new[row_id][c] for c in new[row_id] if new[row_id][c] != old[row_id][c]}
