"""Buyers racing for the last places through the public API: none is held or sold twice."""

from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from boxoffice.server.catalog.service import catalog_changed
from boxoffice.server.catalog.tables import event_capacities
from boxoffice.server.db.transactions import write_transaction
from tests.builders import RESERVED, UNRESERVED, Catalog
from tests.carts.conftest import claims_of
from tests.conftest import Client
from tests.public_orders.conftest import Buyer
from tests.threads import WRITERS, run_together

LAST_PLACES = 3


def test_concurrent_buyers_of_the_last_places_never_share_one(
    http: TestClient, buyer: Buyer, client: Client, engine: Engine, catalog: Catalog
) -> None:
    # 5 of the foyer's places are blocked: LAST_PLACES remain on sale.
    with write_transaction(engine) as tx:
        tx.conn.execute(
            update(event_capacities)
            .where(
                event_capacities.c.tenant_id == client.tenant.id,
                event_capacities.c.event_id == UNRESERVED,
            )
            .values(places=5 + LAST_PLACES)
        )
        catalog_changed(tx.conn, tenant_id=client.tenant.id)
    carts = [buyer.new_cart() for _ in range(WRITERS)]
    statuses: list[int] = [0] * WRITERS

    def hold(i: int) -> None:
        statuses[i] = buyer.add(carts[i], {"event_id": UNRESERVED}).status_code

    assert run_together(hold) == [None] * WRITERS
    assert sorted(statuses) == [200] * LAST_PLACES + [409] * (WRITERS - LAST_PLACES)
    keys = [c["place_key"] for c in claims_of(engine, client.tenant.id)]
    assert len(keys) == LAST_PLACES and len(set(keys)) == LAST_PLACES

    # The winners order and pay together; every place is sold once.
    winners = [carts[i] for i, status in enumerate(statuses) if status == 200]
    urls: list[str] = [""] * len(winners)

    def order(i: int) -> None:
        if i < len(winners):
            response = buyer.create_order(winners[i], email=f"buyer{i}@example.org")
            assert response.status_code == 200, response.text
            urls[i] = response.json()[0]["url"]

    assert run_together(order) == [None] * WRITERS

    def pay(i: int) -> None:
        if i < len(winners):
            assert buyer.answer(urls[i], "pay").status_code == 303

    assert run_together(pay) == [None] * WRITERS
    claims = claims_of(engine, client.tenant.id)
    assert len(claims) == LAST_PLACES
    assert all(c["order_seat_id"] is not None and c["expires_at"] is None for c in claims)
    assert max(Counter(c["place_key"] for c in claims).values()) == 1


def test_concurrent_best_available_holds_pick_distinct_seats(
    buyer: Buyer, client: Client, engine: Engine, catalog: Catalog
) -> None:
    carts = [buyer.new_cart() for _ in range(WRITERS)]
    statuses: list[int] = [0] * WRITERS

    def hold(i: int) -> None:
        line = {"event_id": RESERVED, "numberoftickets": 4, "discount_id": "STD"}
        statuses[i] = buyer.add(carts[i], line).status_code

    assert run_together(hold) == [None] * WRITERS
    # 27 seats of rank 1 are on sale: six buyers of four all get theirs.
    assert statuses == [200] * WRITERS
    keys = [c["place_key"] for c in claims_of(engine, client.tenant.id)]
    assert len(keys) == 4 * WRITERS == len(set(keys))
