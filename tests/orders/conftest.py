"""Fixtures and checks of the order tests; their data comes from tests/builders (build_world)."""

from typing import Any

import pytest
from sqlalchemy import Engine, select

from boxoffice.server.customers.tables import customers
from boxoffice.server.orders.tables import order_seats, orders
from boxoffice.server.places.tables import place_claims
from tests.builders import World, build_world
from tests.conftest import Client

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


@pytest.fixture
def world(engine: Engine, client: Client) -> World:
    return build_world(engine, client)


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
