"""50 buyers race for the last 10 places against a real server (2 worker processes).

Whatever the interleaving, exactly 10 orders are placed, every other buyer gets a 409,
and no place is held by two carts or sold in two live orders.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from boxoffice.server.orders.tables import LIVE_STATUSES, order_seats, orders
from boxoffice.server.places.tables import place_claims, place_counts
from tests.builders import Catalog, build_catalog, building
from tests.conftest import Client, new_client

REPO = Path(__file__).resolve().parents[2]
BUYERS = 50
LAST_PLACES = 10
RESERVED_RACE, UNRESERVED_RACE = 300, 301
STARTUP_SECONDS = 60
REQUEST_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`boxoffice serve --workers 2` on the test database; always stopped afterwards."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("server") / "serve.log"
    env = {**os.environ, "BOXOFFICE_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "boxoffice.cli", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    with log_path.open("wb") as log:
        # Its own process group, so that stopping it also stops its worker processes.
        process = subprocess.Popen(
            [*command, "--workers", "2"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited: {log_path.read_text(errors='replace')[-3000:]}")
            try:
                # Any answer (401 without a key) means a worker is accepting requests.
                httpx.get(f"{url}/v1/probe/peppered/event", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail(f"server not ready: {log_path.read_text(errors='replace')[-3000:]}")
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _race_catalog(engine: Engine, client: Client) -> Catalog:
    """Hall 3 (2 rows of 10, rank 1) with event 300 reserved, 4 seats blocked; event 301
    unreserved with 20 places of rank 2, 4 blocked. 6 places of each are sold below."""
    catalog = build_catalog(engine, client)
    with building(engine, client.tenant.id) as b:
        catalog.seat.update(b.hall(3, {(1, "Zaal"): [(1, 10, 1), (2, 10, 1)]}))
        b.event(
            RESERVED_RACE,
            hall_id=3,
            prices_=[("LASTS", "Standard", 1, 2000)],
            blocks=[("tech", catalog.seat[(1, 2, n)], 1, 1) for n in (7, 8, 9, 10)],
        )
        b.event(
            UNRESERVED_RACE,
            seating="unreserved",
            prices_=[("LASTU", "Vrij", 2, 1000)],
            capacity={2: 20},
            blocks=[("ext", None, 2, 4)],
        )
    return catalog


def _buy(url: str, client: Client, price_id: str, rank_id: int, start: threading.Barrier) -> str:
    """One buyer: a cart, one best-available place, checkout. Returns step and status."""
    with httpx.Client(
        base_url=url + client.base, headers=client.auth, timeout=REQUEST_SECONDS
    ) as http:
        cart = http.post("/cart")
        if cart.status_code != 201:
            start.abort()  # the others must not wait for this buyer
            return f"cart {cart.status_code}"
        cart_id = cart.json()["cartId"]
        start.wait(timeout=REQUEST_SECONDS)
        added = http.post(f"/cart/{cart_id}", json=[{"priceId": price_id, "rankId": rank_id}])
        if added.status_code != 200:
            return f"add {added.status_code}"
        placed = http.post(f"/cart/{cart_id}/checkout", json={"paymentMethodId": 1})
        return f"checkout {placed.status_code}"


def _race(server: str, engine: Engine, event_id: int, price_id: str, rank_id: int) -> None:
    client = new_client(engine)
    _race_catalog(engine, client)
    auth = client.auth
    with httpx.Client(base_url=server + client.base, headers=auth, timeout=REQUEST_SECONDS) as http:
        cart = http.post("/cart").json()["cartId"]
        early = [{"priceId": price_id, "rankId": rank_id, "numberOfTickets": 6}]
        assert http.post(f"/cart/{cart}", json=early).status_code == 200
        assert http.post(f"/cart/{cart}/checkout", json={"paymentMethodId": 1}).status_code == 201
        before = http.get(f"/event/{event_id}").json()["availability"]
        assert before == [{"rankId": rank_id, "available": LAST_PLACES}]

    start = threading.Barrier(BUYERS)
    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        futures = [
            pool.submit(_buy, server, client, price_id, rank_id, start) for _ in range(BUYERS)
        ]
        outcomes = Counter(f.result(timeout=REQUEST_SECONDS * 3) for f in futures)

    assert outcomes["checkout 201"] == LAST_PLACES, outcomes
    losers = {k: n for k, n in outcomes.items() if k != "checkout 201"}
    assert set(losers) <= {"add 409", "checkout 409"}, outcomes
    assert sum(losers.values()) == BUYERS - LAST_PLACES

    with engine.connect() as conn:
        claims = (
            conn.execute(
                select(place_claims).where(
                    place_claims.c.tenant_id == client.tenant.id,
                    place_claims.c.event_id == event_id,
                )
            )
            .mappings()
            .all()
        )
        sold = (
            conn.execute(
                select(order_seats.c.id, order_seats.c.hall_seat_id, orders.c.id.label("order_id"))
                .join(orders, orders.c.id == order_seats.c.order_id)
                .where(
                    order_seats.c.tenant_id == client.tenant.id,
                    order_seats.c.event_id == event_id,
                    order_seats.c.deleted_at.is_(None),
                    orders.c.status.in_(LIVE_STATUSES),
                )
            )
            .mappings()
            .all()
        )
    total = 6 + LAST_PLACES
    # Every place is claimed once (the unique key), each claim is a sale, no hold is left.
    assert len(claims) == total
    assert len({c["place_key"] for c in claims}) == total
    assert all(c["cart_item_id"] is None and c["expires_at"] is None for c in claims)
    # Each live order seat has exactly one claim, and no hall seat is sold twice.
    assert len(sold) == total
    assert sorted(c["order_seat_id"] for c in claims) == sorted(s["id"] for s in sold)
    assert len({s["order_id"] for s in sold}) == 1 + LAST_PLACES
    if event_id == RESERVED_RACE:
        assert len({s["hall_seat_id"] for s in sold}) == total
    # The kept count of the sales, changed by concurrent checkouts, lost none of them.
    assert kept_sales(engine, client, event_id) == {rank_id: total}
    with httpx.Client(base_url=server + client.base, headers=auth, timeout=REQUEST_SECONDS) as http:
        after = http.get(f"/event/{event_id}").json()["availability"]
    assert after == [{"rankId": rank_id, "available": 0}]


def kept_sales(engine: Engine, client: Client, event_id: int) -> dict[int, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(place_counts.c.rank_id, place_counts.c.sold).where(
                place_counts.c.tenant_id == client.tenant.id, place_counts.c.event_id == event_id
            )
        )
        return {int(rank_id): int(sold) for rank_id, sold in rows}


@pytest.mark.timeout(300)
def test_last_reserved_seats(server: str, engine: Engine) -> None:
    _race(server, engine, RESERVED_RACE, "LASTS", 1)


@pytest.mark.timeout(300)
def test_last_unreserved_places(server: str, engine: Engine) -> None:
    _race(server, engine, UNRESERVED_RACE, "LASTU", 2)
