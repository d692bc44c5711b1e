"""Fixtures of the public cart and order tests: the standard catalog with online payment
methods, and a buyer who speaks the public API over the real app."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.orders.tables import order_seats, orders
from boxoffice.server.payments.tables import order_payments
from boxoffice.server.places.tables import place_claims
from tests.builders import Catalog, build_catalog, building
from tests.conftest import Client

# Payment methods added to the standard test catalog (1 iDEAL and 2 Invoice are `invoice`).
TEST_PAY, OFFLINE, UNKNOWN_PROVIDER = 3, 4, 5
REDIRECT = "https://venue.example/thanks?lang=nl"

# TestClient answers with httpx2's Response when httpx2 is installed, else httpx's.
Reply = Any


@pytest.fixture
def catalog(engine: Engine, client: Client) -> Catalog:
    built = build_catalog(engine, client)
    with building(engine, client.tenant.id) as b:
        b.payment_method(TEST_PAY, "Testbetaling", 50, provider="test", online=True)
        b.payment_method(OFFLINE, "Kassa", 0, provider="test", online=False)
        b.payment_method(UNKNOWN_PROVIDER, "Elsewhere", 0, provider="mollie", online=True)
    return built


def buyer_fields(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "payment_id": TEST_PAY,
        "redirectURL": REDIRECT,
        "email": "Grace@Example.org",
        "firstname": "Grace",
        "lastname": "Hopper",
        "phone": "+31 6 1234-5678",
        "address": "Kerkstraat 1",
        "city": "Amsterdam",
        "zip": "1017 GA",
        "avg_optin": 1,
        "avg_mailinglist": "0",
    }
    body.update(changes)
    return body


@dataclass
class Buyer:
    """The public cart and order endpoints of one client, over the real app, no key."""

    http: TestClient
    client: Client

    @property
    def base(self) -> str:
        return f"/v1/{self.client.name}"

    def new_cart(self) -> str:
        response = self.http.post(self.base + "/cart")
        assert response.status_code == 201, response.text
        return str(response.json()["cart_id"])

    def add(self, cart_id: str, body: Any) -> Reply:
        return self.http.post(f"{self.base}/cart/{cart_id}", json=body)

    def cart(self, cart_id: str) -> Reply:
        return self.http.get(f"{self.base}/cart/{cart_id}")

    def create_order(self, cart_id: str, **changes: Any) -> Reply:
        return self.http.post(
            f"{self.base}/order/create", json={"cart_id": cart_id, **buyer_fields(**changes)}
        )

    def order(self, order_key: str) -> Reply:
        return self.http.get(f"{self.base}/order/{order_key}")

    def place(self, items: list[dict[str, Any]], **changes: Any) -> tuple[str, str]:
        """A cart with these lines, placed as an order: (payment url, order key)."""
        cart_id = self.new_cart()
        for item in items:
            response = self.add(cart_id, item)
            assert response.status_code == 200, response.text
        response = self.create_order(cart_id, **changes)
        assert response.status_code == 200, response.text
        [created] = response.json()
        return str(created["url"]), str(created["order_key"])

    def answer(self, url: str, action: str) -> Reply:
        """Submit the test payment page's form (as a browser would, not following)."""
        return self.http.post(url, data={"action": action}, follow_redirects=False)


@pytest.fixture
def buyer(http: TestClient, client: Client) -> Buyer:
    return Buyer(http=http, client=client)


def returned_key(location: str) -> str:
    """The ?return= of a redirect to the venue's page (its own query kept)."""
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT.split("?")[0]
    query = parse_qs(parts.query)
    assert query["lang"] == ["nl"]
    [key] = query["return"]
    return key


def run_out(engine: Engine, tenant_id: int, order_key: str) -> None:
    """Move a reservation's expiry (order, payment and its places) into the past, as if its
    time had run out: the clock is left alone, the stored expiry moves."""
    with write_transaction(engine) as tx:
        order_id = tx.conn.execute(
            select(orders.c.id).where(
                orders.c.tenant_id == tenant_id, orders.c.order_key == order_key
            )
        ).scalar_one()
        past = tx.now - 1
        tx.conn.execute(update(orders).where(orders.c.id == order_id).values(time_out_at=past))
        tx.conn.execute(
            update(order_payments)
            .where(order_payments.c.order_id == order_id)
            .values(expires_at=past)
        )
        seats = select(order_seats.c.id).where(order_seats.c.order_id == order_id)
        tx.conn.execute(
            update(place_claims)
            .where(place_claims.c.order_seat_id.in_(seats))
            .values(expires_at=past)
        )
