"""Fixtures of the cart tests: the standard test catalog and small HTTP helpers."""

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from boxoffice.server.carts.tables import cart_items, carts
from boxoffice.server.orders.tables import order_seats, orders
from boxoffice.server.places.tables import place_claims
from tests.builders import Catalog, build_catalog
from tests.conftest import Client


@pytest.fixture
def catalog(engine: Engine, client: Client) -> Catalog:
    return build_catalog(engine, client)


# TestClient answers with httpx2's Response when httpx2 is installed, else httpx's.
Reply = Any


@dataclass
class Shop:
    """The cart endpoints of one client, over the real app."""

    http: TestClient
    client: Client

    def new_cart(self) -> str:
        response = self.http.post(self.client.base + "/cart", headers=self.client.auth)
        assert response.status_code == 201, response.text
        return str(response.json()["cartId"])

    def add(self, cart_id: str, items: Any) -> Reply:
        return self.http.post(
            f"{self.client.base}/cart/{cart_id}", json=items, headers=self.client.auth
        )

    def get(self, path: str) -> Reply:
        return self.http.get(self.client.base + path, headers=self.client.auth)

    def delete(self, path: str) -> Reply:
        return self.http.delete(self.client.base + path, headers=self.client.auth)

    def checkout(self, cart_id: str, body: Any) -> Reply:
        return self.http.post(
            f"{self.client.base}/cart/{cart_id}/checkout", json=body, headers=self.client.auth
        )

    def available(self, event_id: int) -> dict[int, int]:
        body = self.get(f"/event/{event_id}").json()
        return {a["rankId"]: a["available"] for a in body["availability"]}


@pytest.fixture
def shop(http: TestClient, client: Client) -> Shop:
    return Shop(http=http, client=client)


def snapshot(engine: Engine, tenant_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every cart, item, claim, order and order seat of a client: to prove nothing changed."""
    tables = {
        "carts": carts,
        "cart_items": cart_items,
        "place_claims": place_claims,
        "orders": orders,
        "order_seats": order_seats,
    }
    with engine.connect() as conn:
        return {
            name: sorted(
                (
                    tuple(row)
                    for row in conn.execute(select(table).where(table.c.tenant_id == tenant_id))
                ),
                key=repr,
            )
            for name, table in tables.items()
        }


def claims_of(engine: Engine, tenant_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(place_claims)
            .where(place_claims.c.tenant_id == tenant_id)
            .order_by(place_claims.c.id)
        ).mappings()
        return [dict(r) for r in rows]
