"""A hold that waits for its event's lock picks from what the hold before it committed.

On PostgreSQL a hold of one event sends its first reads of the event with the statement
that locks it, to run as soon as the lock is granted (carts/service.py, add_items): each
statement of a pipeline reads a snapshot taken when it starts, so the reads see the claims
that the lock's last holder committed while this hold waited. Were they read with a
snapshot from before the wait, the hold would pick the seats just taken, lose the race
on the claims' unique key and pick again: still correct, but a second claim statement.
On SQLite the hold waits for the writers' turn before it reads anything.
"""

import threading
import time
from itertools import groupby
from typing import Any

from sqlalchemy import Engine, text

from boxoffice.server.carts import service as carts_service
from boxoffice.server.carts.schemas import CartItemInput
from boxoffice.server.db.transactions import write_transaction
from tests.builders import Catalog
from tests.carts.conftest import Shop, claims_of
from tests.conftest import Client
from tests.places.test_counts_cost import recorded

BEST_TWO = [{"priceId": "STD", "rankId": 1, "numberOfTickets": 2}]


def waiting_for_a_lock(engine: Engine) -> bool:
    """Whether a session of the database waits for a lock (PostgreSQL); on SQLite, a pause
    long enough for the waiting hold to have reached the writers' turn."""
    if engine.dialect.name != "postgresql":
        time.sleep(0.3)
        return True
    with engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query LIKE '%FOR NO KEY UPDATE OF events%'"
            )
        ).scalar_one()
    return bool(waiting)


def test_a_hold_waiting_for_the_event_reads_what_the_hold_before_it_committed(
    shop: Shop, engine: Engine, client: Client, catalog: Catalog
) -> None:
    first_cart, second_cart = shop.new_cart(), shop.new_cart()
    answers: list[Any] = []
    with recorded(engine) as statements:
        with write_transaction(engine) as tx:
            # The first hold takes the event's lock and the two best seats, and has not
            # committed when the second hold asks for the same two.
            carts_service.add_items(
                tx,
                tenant=client.tenant,
                cart_id=first_cart,
                lines=[CartItemInput.model_validate(line) for line in BEST_TWO],
                hold_minutes=15,
            )
            second = threading.Thread(
                target=lambda: answers.append(shop.add(second_cart, BEST_TWO))
            )
            second.start()
            deadline = time.monotonic() + 10
            while not waiting_for_a_lock(engine):
                assert time.monotonic() < deadline, "the second hold never waited for the lock"
                time.sleep(0.01)
        second.join(timeout=30)
    assert answers and answers[0].status_code == 200, answers
    by_cart: dict[str, set[str]] = {first_cart: set(), second_cart: set()}
    items = {i["itemId"]: second_cart for i in answers[0].json()["cartItems"]}
    for claim in claims_of(engine, client.tenant.id):
        by_cart[items.get(claim["cart_item_id"], first_cart)].add(claim["place_key"])
    assert len(by_cart[first_cart]) == len(by_cart[second_cart]) == 2
    assert not by_cart[first_cart] & by_cart[second_cart]
    # One claim statement a hold (SQLite runs it once a row): the second hold picked free
    # seats at its first try.
    claiming = [
        key for key, _ in groupby("INSERT INTO place_claims" in sql for sql, _ in statements)
    ]
    assert claiming.count(True) == 2
