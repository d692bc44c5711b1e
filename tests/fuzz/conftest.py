"""A client with a small catalog, customers, orders, a waiting list and an open cart.

The data comes from tests/builders (direct inserts, as checkout would leave it); the cart
is opened over HTTP.

The fuzz tests run against it, so that generated requests that hit a real id reach the
code paths that render data, not only the 404s.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from boxoffice.server.values.clock import now_micros
from tests.builders import HALL_DETAILS, Seat, at, building
from tests.conftest import Client, new_client

RESERVED_EVENT, UNRESERVED_EVENT, PRODUCTION, HALL = 501, 502, 500, 50
# Paid through the built-in test provider on the public API.
TEST_PAYMENT_METHOD = 1


@dataclass
class FuzzTarget:
    """The client the fuzzers act as, and ids of its records (by path parameter name)."""

    client: Client
    known: dict[str, list[Any]] = field(default_factory=dict)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def populate(engine: Engine, http: TestClient, client: Client) -> dict[str, list[Any]]:
    """A catalog (events in the future, so that carts can hold their places whenever the
    suite runs), customers with tags, two orders (one with a removed seat), a waiting-list
    entry, and an open cart (over HTTP)."""
    now = now_micros()
    with building(engine, client.tenant.id) as b:
        b.client_types("friend", "donor", "vip")
        b.payment_method(TEST_PAYMENT_METHOD, "iDEAL", 0, provider="test")
        b.payment_method(2, "Invoice", 250)
        b.ranks((1, "Rang 1"), (2, "Rang 2"))
        hall = b.hall(
            HALL,
            {(1, "Parket"): [(row, 10, 1) for row in (1, 2, 3)]},
            name="Grote Zaal",
            **HALL_DETAILS,
        )
        b.productions((PRODUCTION, "Hamlet"))
        b.event(
            RESERVED_EVENT,
            production_id=PRODUCTION,
            hall_id=HALL,
            event_type="play",
            start_at=at("2036-04-01T20:30:00+02:00"),
            end_at=at("2036-04-01T22:30:00+02:00"),
            prices_=[("STD", "Standard", 1, 2450)],
        )
        b.event(
            UNRESERVED_EVENT,
            production_id=PRODUCTION,
            hall_id=HALL,
            name="Hamlet (foyer)",
            seating="unreserved",
            start_at=at("2036-04-02T20:30:00+02:00"),
            end_at=at("2036-04-02T22:30:00+02:00"),
            capacity={2: 40},
            prices_=[("FREE", "Vrij", 2, 1500)],
        )
        customers = [
            b.customer(
                changed_at=now,
                tags=tags,
                email=f"person{n}@example.org",
                first_name=f"Person{n}",
                last_name="Fuzz",
            )
            for n, tags in enumerate((["friend"], ["vip", "donor"], []))
        ]
        reserved = [
            Seat(
                event_id=RESERVED_EVENT,
                rank_id=1,
                row_nr=1,
                seat_nr=n,
                price_id="STD",
                hall_seat_id=hall[1, 1, n],
                # The first one removed: it shows under deletedSeats.
                deleted_at=now if n == 1 else None,
            )
            for n in (1, 2, 3)
        ]
        unreserved = [
            Seat(amount_cents=1500, event_id=UNRESERVED_EVENT, rank_id=2, price_id="FREE")
        ] * 2
        orders = []
        for customer_id, seats, donation in ((customers[0], reserved, 0), (None, unreserved, 500)):
            order_id = b.order(
                changed_at=now,
                seats=seats,
                customer_id=customer_id,
                payment_method_id=2,
                handling_text="Invoice",
                fee_cents=250,
                donation_cents=donation,
            )
            b.claim_places(order_id, seats, units=40)
            orders.append(order_id)
        seat_ids = [seat_id for order_id in orders for seat_id in b.seat_ids[order_id]]
        waiting = b.waiting(
            customer_id=customers[1], changed_at=now, event_id=RESERVED_EVENT, number_of_tickets=2
        )
    base, auth = client.base, client.auth
    cart_id = _ok(http.post(f"{base}/cart", headers=auth), 201)["cartId"]
    cart = _ok(
        http.post(f"{base}/cart/{cart_id}", json=[{"priceId": "STD", "rankId": 1}], headers=auth)
    )
    public = public_records(http, client)
    return {
        **public,
        "customerId": customers,
        "orderId": orders,
        "seatId": seat_ids,
        "eventId": [RESERVED_EVENT, UNRESERVED_EVENT],
        "productionId": [PRODUCTION],
        "hallId": [HALL],
        "waitingId": [waiting],
        "cartId": [cart_id],
        "itemId": [item["itemId"] for item in cart["cartItems"]],
        # The public API's path parameters (strings: any text is a valid path segment).
        "event_id": [str(PRODUCTION), str(RESERVED_EVENT), str(UNRESERVED_EVENT)],
        "location_id": [str(HALL)],
        "name": ["play"],
    }


REDIRECT = "https://venue.example/thanks"


def public_records(http: TestClient, client: Client) -> dict[str, list[Any]]:
    """A public cart with two tickets, a paid and an unpaid public order, and a cart kept
    for POST /order/create."""
    base = f"/v1/{client.name}"

    def cart(count: int) -> tuple[str, list[str]]:
        cart_id = _ok(http.post(f"{base}/cart"), 201)["cart_id"]
        body = {"event_id": UNRESERVED_EVENT, "numberoftickets": count}
        tickets = _ok(http.post(f"{base}/cart/{cart_id}", json=body))[:-1]
        return cart_id, [t["seat_id"] for t in tickets]

    keys = []
    for _ in range(2):
        order_cart, _seats = cart(1)
        body = {
            "cart_id": order_cart,
            "payment_id": TEST_PAYMENT_METHOD,
            "redirectURL": REDIRECT,
            "email": "person0@example.org",  # linked to that customer, none created
            "lastname": "Buyer",
        }
        keys.append(_ok(http.post(f"{base}/order/create", json=body))[0]["order_key"])
    paid = http.post(f"{base}/pay/test/{keys[0]}", data={"action": "pay"}, follow_redirects=False)
    assert paid.status_code == 303, paid.text
    cart_id, seat_ids = cart(2)
    return {
        "cart_id": [cart_id],
        "seat_id": seat_ids,
        "order_key": keys,
        "provider": ["test"],
        "order_cart": [cart(1)[0]],
        # The ticket host's API: a session is a public cart; the two loader scripts.
        "session_id": [cart_id],
        "script_name": ["vdm_loader.js", "vdm_sideloader.js"],
    }


def new_target(app: FastAPI, engine: Engine) -> FuzzTarget:
    client = new_client(engine)
    with TestClient(app, base_url="http://127.0.0.1") as http:
        known = populate(engine, http, client)
    return FuzzTarget(client=client, known=known)


@pytest.fixture(scope="module")
def target(app: FastAPI, engine: Engine) -> Iterator[FuzzTarget]:
    yield new_target(app, engine)
