"""SIGKILL the server in the middle of a burst of checkouts and seat removals, restart it.

What a client was told stays true, and nothing is half-written:

* every acknowledged order (a 201 checkout, a 200 seat removal) is there with exactly the
  seats of its last acknowledgement (or, when a removal was in flight at the kill, with or
  without that one seat);
* every order has at least one seat row and `amount` = current seats + donation + fee; no
  seat row lacks its order; each current seat of a live order holds exactly one place and a
  removed seat none; every hold belongs to an existing item of an open cart;
* places held by carts that never checked out are free again once their holds expire, and
  a new cart can claim exactly those places.
"""

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, update

from boxoffice.server.carts.tables import cart_items, carts
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.orders.tables import LIVE_STATUSES, order_seats, orders
from boxoffice.server.places.tables import place_claims
from tests.builders import at, building
from tests.conftest import Client, new_client
from tests.crash.server import Killable, killable_server

RESERVED, UNRESERVED = 701, 702
ROWS, SEATS_PER_ROW, UNITS = 8, 25, 300
PRICES = {"STD": 2450, "FREE": 1500}
FEES = {1: 0, 2: 250}
THREADS = 4
ROUNDS = 2
# The kill comes once this many checkouts (and a few removals) have been acknowledged.
ORDERS_BEFORE_KILL, REMOVALS_BEFORE_KILL = 12, 3
ITERATIONS_PER_THREAD = 150  # an upper bound: the kill normally comes long before
REQUEST_SECONDS = 30
WAIT_FOR_ACKS_SECONDS = 120


@dataclass
class Acked:
    """What the clients were told: each order's current seats {seatId: cents}, its donation and
    fee, removals acknowledged, and the one removal per order still in flight at the kill."""

    seats: dict[int, dict[int, int]] = field(default_factory=dict)
    extra: dict[int, int] = field(default_factory=dict)
    removed: dict[int, set[int]] = field(default_factory=dict)
    in_flight_removal: dict[int, int] = field(default_factory=dict)
    abandoned_carts: set[str] = field(default_factory=set)
    removals: int = 0
    conflicts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _seats_of(order: dict[str, Any]) -> dict[int, int]:
    return {s["seatId"]: round(s["amount"] * 100) for s in order["seats"]}


def _tickets(rng: random.Random) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    if rng.random() < 0.7:
        lines.append({"priceId": "STD", "rankId": 1, "numberOfTickets": rng.randint(1, 3)})
    if not lines or rng.random() < 0.4:
        lines.append({"priceId": "FREE", "rankId": 2, "numberOfTickets": rng.randint(1, 3)})
    if rng.random() < 0.3:
        lines.append({"priceId": "donation", "rankId": 0, "amount": "3.00"})
    return lines


def _buyer(url: str, client: Client, acked: Acked, stop: threading.Event, seed: int) -> str:
    """Checkouts, removals from this buyer's own orders, and abandoned carts, until the kill."""
    rng = random.Random(seed)
    mine: list[int] = []
    with httpx.Client(
        base_url=url + client.base, headers=client.auth, timeout=REQUEST_SECONDS
    ) as http:
        for _ in range(ITERATIONS_PER_THREAD):
            if stop.is_set():
                return "stopped"
            try:
                roll = rng.random()
                with acked.lock:
                    removable = [
                        o for o in mine if acked.seats[o] and o not in acked.in_flight_removal
                    ]
                if roll < 0.25 and removable:
                    order_id = rng.choice(removable)
                    with acked.lock:
                        seat_id = rng.choice(sorted(acked.seats[order_id]))
                        acked.in_flight_removal[order_id] = seat_id
                    removed = http.delete(f"/order/{order_id}/seat/{seat_id}")
                    assert removed.status_code == 200, removed.text
                    with acked.lock:
                        acked.seats[order_id] = _seats_of(removed.json())
                        acked.removed[order_id].add(seat_id)
                        del acked.in_flight_removal[order_id]
                        acked.removals += 1
                    continue
                created = http.post("/cart")
                assert created.status_code == 201, created.text
                cart_id = created.json()["cartId"]
                added = http.post(f"/cart/{cart_id}", json=_tickets(rng))
                if added.status_code == 409:
                    with acked.lock:
                        acked.conflicts += 1
                    continue
                assert added.status_code == 200, added.text
                if roll < 0.4:
                    with acked.lock:
                        acked.abandoned_carts.add(cart_id)
                    continue
                method = rng.choice([1, 2])
                donation = rng.choice([None, "1.25"])
                placed = http.post(
                    f"/cart/{cart_id}/checkout",
                    json={"paymentMethodId": method, "donation": donation},
                )
                assert placed.status_code == 201, placed.text
                order = placed.json()
                with acked.lock:
                    acked.seats[order["orderId"]] = _seats_of(order)
                    acked.extra[order["orderId"]] = round((order["donation"] + order["fee"]) * 100)
                    acked.removed[order["orderId"]] = set()
                    mine.append(order["orderId"])
            except httpx.TransportError:
                # The kill: whatever was in flight stays unacknowledged.
                return "killed"
    return "done"


def _burst_and_kill(server: Killable, client: Client, acked: Acked, round_nr: int) -> None:
    stop = threading.Event()
    start_orders, start_removals = len(acked.seats), acked.removals
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [
            pool.submit(_buyer, server.url, client, acked, stop, 1000 * round_nr + n)
            for n in range(THREADS)
        ]
        try:
            # Polls the shared counters; the bound is generous, the kill normally comes fast.
            for _ in range(WAIT_FOR_ACKS_SECONDS * 20):
                with acked.lock:
                    enough = (
                        len(acked.seats) - start_orders >= ORDERS_BEFORE_KILL
                        and acked.removals - start_removals >= REMOVALS_BEFORE_KILL
                    )
                if enough or all(f.done() for f in futures):
                    break
                stop.wait(0.05)
            server.kill()
        finally:
            stop.set()
        outcomes = [f.result(timeout=REQUEST_SECONDS * 2) for f in futures]
    assert len(acked.seats) - start_orders >= ORDERS_BEFORE_KILL, (outcomes, server.log_tail())
    assert acked.removals - start_removals >= REMOVALS_BEFORE_KILL, outcomes


@pytest.fixture
def crash_client(engine: Engine) -> Client:
    """A client with hall 70 (ROWS rows of SEATS_PER_ROW seats of rank 1) and production
    700: event 701 reserved (STD 24.50), event 702 unreserved (UNITS places of rank 2, FREE
    15.00); payment methods 1 iDEAL and 2 Invoice (2.50)."""
    client = new_client(engine)
    with building(engine, client.tenant.id) as b:
        b.payment_method(1, "iDEAL", 0)
        b.payment_method(2, "Invoice", 250)
        b.ranks((1, "Rang 1"), (2, "Rang 2"))
        b.hall(70, {(1, "Parket"): [(row, SEATS_PER_ROW, 1) for row in range(1, ROWS + 1)]})
        b.productions((700, "Crash"))
        b.event(
            RESERVED,
            production_id=700,
            hall_id=70,
            name="Crash (zaal)",
            start_at=at("2036-05-01T20:00:00+02:00"),
            end_at=at("2036-05-01T22:00:00+02:00"),
            prices_=[("STD", "Standard", 1, 2450)],
        )
        b.event(
            UNRESERVED,
            production_id=700,
            hall_id=70,
            name="Crash (foyer)",
            seating="unreserved",
            start_at=at("2036-05-02T20:00:00+02:00"),
            end_at=at("2036-05-02T22:00:00+02:00"),
            capacity={2: UNITS},
            prices_=[("FREE", "Vrij", 2, 1500)],
        )
    return client


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Killable]:
    with killable_server(database_url, tmp_path / "serve.log") as killable:
        yield killable


@pytest.mark.timeout(600)
def test_acknowledged_orders_survive_a_kill_and_nothing_is_half_written(
    server: Killable, engine: Engine, crash_client: Client
) -> None:
    client = crash_client
    acked = Acked()
    for round_nr in range(ROUNDS):
        server.start()
        _burst_and_kill(server, client, acked, round_nr)
    server.start()

    _check_acknowledged(server, engine, client, acked)
    _check_consistent(engine, client)
    _check_expired_holds_are_released(server, engine, client)
    _check_consistent(engine, client)


def _check_acknowledged(server: Killable, engine: Engine, client: Client, acked: Acked) -> None:
    tid = client.tenant.id
    with engine.connect() as conn:
        rows = conn.execute(
            select(order_seats.c.order_id, order_seats.c.id, order_seats.c.deleted_at).where(
                order_seats.c.tenant_id == tid
            )
        ).all()
    current: dict[int, set[int]] = {}
    deleted: dict[int, set[int]] = {}
    for order_id, seat_id, deleted_at in rows:
        (current if deleted_at is None else deleted).setdefault(order_id, set()).add(seat_id)
    with httpx.Client(
        base_url=server.url + client.base, headers=client.auth, timeout=REQUEST_SECONDS
    ) as http:
        for order_id, seats in acked.seats.items():
            expected = set(seats)
            allowed = [expected]
            if order_id in acked.in_flight_removal:
                allowed.append(expected - {acked.in_flight_removal[order_id]})
            assert current.get(order_id, set()) in allowed, order_id
            assert acked.removed[order_id] <= deleted.get(order_id, set()), order_id
            answer = http.get(f"/order/{order_id}")
            assert answer.status_code == 200, answer.text
            amount = round(answer.json()["amount"] * 100)
            kept = current.get(order_id, set())
            assert amount == sum(seats[s] for s in kept) + acked.extra[order_id]


def _check_consistent(engine: Engine, client: Client) -> None:
    tid = client.tenant.id
    with engine.connect() as conn:
        order_rows = conn.execute(select(orders).where(orders.c.tenant_id == tid)).mappings().all()
        seat_rows = (
            conn.execute(select(order_seats).where(order_seats.c.tenant_id == tid)).mappings().all()
        )
        claims = (
            conn.execute(select(place_claims).where(place_claims.c.tenant_id == tid))
            .mappings()
            .all()
        )
        item_rows = conn.execute(
            select(cart_items.c.id, carts.c.closed_at)
            .join(carts, carts.c.id == cart_items.c.cart_id)
            .where(cart_items.c.tenant_id == tid)
        ).all()
        orphans = conn.execute(
            select(func.count())
            .select_from(order_seats.outerjoin(orders, orders.c.id == order_seats.c.order_id))
            .where(orders.c.id.is_(None))
        ).scalar_one()
    assert orphans == 0
    assert order_rows, "the burst placed no order"
    by_order: dict[int, list[Any]] = {}
    for seat in seat_rows:
        by_order.setdefault(seat["order_id"], []).append(seat)
    seat_by_id = {s["id"]: s for s in seat_rows}
    order_by_id = {o["id"]: o for o in order_rows}
    for order in order_rows:
        seats = by_order.get(order["id"], [])
        assert seats, f"order {order['id']} has no seat row"
        current = sum(s["amount_cents"] for s in seats if s["deleted_at"] is None)
        assert order["amount_cents"] == current + order["donation_cents"] + order["fee_cents"]

    sale_claims: dict[int, int] = {}
    open_items = {item_id for item_id, closed_at in item_rows if closed_at is None}
    for claim in claims:
        if claim["order_seat_id"] is not None:
            assert claim["cart_item_id"] is None
            assert claim["expires_at"] is None
            seat = seat_by_id.get(claim["order_seat_id"])
            assert seat is not None, claim
            assert seat["deleted_at"] is None, f"removed seat {seat['id']} still holds a place"
            assert order_by_id[seat["order_id"]]["status"] in LIVE_STATUSES
            sale_claims[seat["id"]] = sale_claims.get(seat["id"], 0) + 1
        else:
            assert claim["cart_item_id"] in open_items, f"hold of no open cart item: {claim}"
            assert claim["expires_at"] is not None
    for seat in seat_rows:
        live = order_by_id[seat["order_id"]]["status"] in LIVE_STATUSES
        wanted = 1 if live and seat["deleted_at"] is None else 0
        assert sale_claims.get(seat["id"], 0) == wanted, seat


def _available(http: httpx.Client, event_id: int) -> int:
    answer = http.get(f"/event/{event_id}")
    assert answer.status_code == 200, answer.text
    return sum(a["available"] for a in answer.json()["availability"])


def _check_expired_holds_are_released(server: Killable, engine: Engine, client: Client) -> None:
    tid = client.tenant.id
    with engine.connect() as conn:
        holds = conn.execute(
            select(place_claims.c.event_id, place_claims.c.place_key).where(
                place_claims.c.tenant_id == tid, place_claims.c.cart_item_id.is_not(None)
            )
        ).all()
        sold = dict(
            conn.execute(
                select(order_seats.c.event_id, func.count())
                .join(orders, orders.c.id == order_seats.c.order_id)
                .where(
                    order_seats.c.tenant_id == tid,
                    order_seats.c.deleted_at.is_(None),
                    orders.c.status.in_(LIVE_STATUSES),
                )
                .group_by(order_seats.c.event_id)
            ).all()
        )
    held_seats = sorted(int(key[1:]) for event_id, key in holds if event_id == RESERVED)
    held_units = sum(1 for event_id, _key in holds if event_id == UNRESERVED)
    assert held_seats or held_units, "no cart was left holding places"
    capacity = {RESERVED: ROWS * SEATS_PER_ROW, UNRESERVED: UNITS}

    with httpx.Client(
        base_url=server.url + client.base, headers=client.auth, timeout=REQUEST_SECONDS
    ) as http:
        # While the holds last, their places are not available.
        for event_id, held in ((RESERVED, len(held_seats)), (UNRESERVED, held_units)):
            assert _available(http, event_id) == capacity[event_id] - sold.get(event_id, 0) - held

        with write_transaction(engine) as tx:
            past = tx.now - 1
            tx.conn.execute(update(carts).where(carts.c.tenant_id == tid).values(expires_at=past))
            tx.conn.execute(
                update(place_claims)
                .where(place_claims.c.tenant_id == tid, place_claims.c.cart_item_id.is_not(None))
                .values(expires_at=past)
            )

        for event_id in (RESERVED, UNRESERVED):
            assert _available(http, event_id) == capacity[event_id] - sold.get(event_id, 0)
        # The freed places, claimed by name (reserved) and one by one (unreserved), in carts of
        # 40 lines of one ticket (the API allows 50 lines and 100 tickets).
        lines: list[dict[str, Any]] = [
            {"priceId": "STD", "rankId": 1, "seatId": seat_id} for seat_id in held_seats
        ]
        lines += [{"priceId": "FREE", "rankId": 2, "numberOfTickets": 1}] * held_units
        for start in range(0, len(lines), 40):
            cart_id = http.post("/cart").json()["cartId"]
            claimed = http.post(f"/cart/{cart_id}", json=lines[start : start + 40])
            assert claimed.status_code == 200, claimed.text
            placed = http.post(f"/cart/{cart_id}/checkout", json={"paymentMethodId": 1})
            assert placed.status_code == 201, placed.text
        for event_id in (RESERVED, UNRESERVED):
            assert _available(http, event_id) == capacity[event_id] - sold.get(event_id, 0) - (
                len(held_seats) if event_id == RESERVED else held_units
            )
