"""A client with a small catalog, customers, orders, a waiting list and an open cart.

The fuzz tests run against it, so that generated requests that hit a real id reach the
code paths that render data, not only the 404s.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from boxoffice.server.catalog.loading import load_catalog
from boxoffice.server.catalog.tables import payment_methods
from boxoffice.server.db.transactions import write_transaction
from tests.conftest import Client, new_client

RESERVED_EVENT, UNRESERVED_EVENT, PRODUCTION, HALL = 501, 502, 500, 50

# Events in the future, so that carts can hold their places whenever the suite runs.
CATALOG: dict[str, Any] = {
    "timezone": "Europe/Amsterdam",
    "clientTypes": ["friend", "donor", "vip"],
    "paymentMethods": [
        {"paymentMethodId": 1, "name": "iDEAL", "fee": "0.00"},
        {"paymentMethodId": 2, "name": "Invoice", "fee": "2.50"},
    ],
    "ranks": [{"rankId": 1, "name": "Rang 1"}, {"rankId": 2, "name": "Rang 2"}],
    "halls": [
        {
            "hallId": HALL,
            "hallName": "Grote Zaal",
            "hallAddress": "Kerkstraat 1",
            "hallZip": "1017 GA",
            "hallCity": "Amsterdam",
            "hallPhone": "0201234567",
            "hallUrl": "https://example.org",
            "sections": [
                {
                    "sectionId": 1,
                    "sectionName": "Parket",
                    "rows": [
                        {"rowNr": row, "seats": [{"seatNr": n, "rankId": 1} for n in range(1, 11)]}
                        for row in (1, 2, 3)
                    ],
                }
            ],
        }
    ],
    "productions": [
        {
            "productionId": PRODUCTION,
            "productionName": "Hamlet",
            "events": [
                {
                    "eventId": RESERVED_EVENT,
                    "eventName": "Hamlet",
                    "eventType": "play",
                    "start": "2036-04-01T20:30:00+02:00",
                    "end": "2036-04-01T22:30:00+02:00",
                    "hallId": HALL,
                    "seating": "reserved",
                    "prices": [
                        {
                            "priceId": "STD",
                            "priceName": "Standard",
                            "rankId": 1,
                            "amount": "24.50",
                        }
                    ],
                },
                {
                    "eventId": UNRESERVED_EVENT,
                    "eventName": "Hamlet (foyer)",
                    "start": "2036-04-02T20:30:00+02:00",
                    "end": "2036-04-02T22:30:00+02:00",
                    "hallId": HALL,
                    "seating": "unreserved",
                    "capacity": [{"rankId": 2, "places": 40}],
                    "prices": [
                        {"priceId": "FREE", "priceName": "Vrij", "rankId": 2, "amount": "15.00"}
                    ],
                },
            ],
        }
    ],
}


@dataclass
class FuzzTarget:
    """The client the fuzzers act as, and ids of its records (by path parameter name)."""

    client: Client
    known: dict[str, list[Any]] = field(default_factory=dict)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def populate(http: TestClient, client: Client) -> dict[str, list[Any]]:
    """Customers, two orders (one with a removed seat), a waiting-list entry, an open cart."""
    base, auth = client.base, client.auth
    customers = []
    for n, tags in enumerate((["friend"], ["vip", "donor"], [])):
        created = _ok(
            http.post(
                f"{base}/customer",
                headers=auth,
                json={
                    "email": f"person{n}@example.org",
                    "customerFirstName": f"Person{n}",
                    "customerLastName": "Fuzz",
                },
            ),
            201,
        )
        customers.append(created["customerId"])
        _ok(
            http.post(
                f"{base}/customer/{created['customerId']}/clienttypes", json=tags, headers=auth
            )
        )

    orders, seats = [], []
    for customer_id, items in (
        (customers[0], [{"priceId": "STD", "rankId": 1, "numberOfTickets": 3}]),
        (
            None,
            [
                {"priceId": "FREE", "rankId": 2, "numberOfTickets": 2},
                {"priceId": "donation", "rankId": 0, "amount": "5.00"},
            ],
        ),
    ):
        cart_id = _ok(http.post(f"{base}/cart", headers=auth), 201)["cartId"]
        _ok(http.post(f"{base}/cart/{cart_id}", json=items, headers=auth))
        order = _ok(
            http.post(
                f"{base}/cart/{cart_id}/checkout",
                json={"customerId": customer_id, "paymentMethodId": 2},
                headers=auth,
            ),
            201,
        )
        orders.append(order["orderId"])
        seats.extend(seat["seatId"] for seat in order["seats"])
    removed = _ok(http.delete(f"{base}/order/{orders[0]}/seat/{seats[0]}", headers=auth))
    assert removed["deletedSeats"]

    waiting = _ok(
        http.post(
            f"{base}/waitinglist",
            json={"customerId": customers[1], "eventId": RESERVED_EVENT, "numberOfTickets": 2},
            headers=auth,
        ),
        201,
    )
    cart_id = _ok(http.post(f"{base}/cart", headers=auth), 201)["cartId"]
    cart = _ok(
        http.post(f"{base}/cart/{cart_id}", json=[{"priceId": "STD", "rankId": 1}], headers=auth)
    )
    public = public_records(http, client)
    return {
        **public,
        "customerId": customers,
        "orderId": orders,
        "seatId": seats,
        "eventId": [RESERVED_EVENT, UNRESERVED_EVENT],
        "productionId": [PRODUCTION],
        "hallId": [HALL],
        "waitingId": [waiting["waitingId"]],
        "cartId": [cart_id],
        "itemId": [item["itemId"] for item in cart["cartItems"]],
        # The public API's path parameters (strings: any text is a valid path segment).
        "event_id": [str(PRODUCTION), str(RESERVED_EVENT), str(UNRESERVED_EVENT)],
        "location_id": [str(HALL)],
        "name": ["play"],
    }


# Paid through the built-in test provider on the public API.
TEST_PAYMENT_METHOD = 1
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
    }


def new_target(app: FastAPI, engine: Engine) -> FuzzTarget:
    client = new_client(engine)
    with write_transaction(engine) as tx:
        load_catalog(tx, tenant=client.tenant, data=CATALOG)
        tx.conn.execute(
            update(payment_methods)
            .where(
                payment_methods.c.tenant_id == client.tenant.id,
                payment_methods.c.payment_method_id == TEST_PAYMENT_METHOD,
            )
            .values(provider="test")
        )
    with TestClient(app, base_url="http://127.0.0.1") as http:
        known = populate(http, client)
    return FuzzTarget(client=client, known=known)


@pytest.fixture(scope="module")
def target(app: FastAPI, engine: Engine) -> Iterator[FuzzTarget]:
    yield new_target(app, engine)
