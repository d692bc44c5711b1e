"""Helpers for the customer tests: a tag vocabulary, customers over HTTP, stored state."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from boxoffice.server.customers.tables import customer_tags, customers
from tests.builders import building
from tests.conftest import Client

VOCABULARY = ("donor", "friend", "press", "student", "vip")

USER_KEYS = [
    "customerId",
    "email",
    "customerFirstName",
    "customerLastName",
    "customerSalutation",
    "customerPreposition",
    "customerAddress",
    "customerHouseNr",
    "customerZip",
    "customerCity",
    "customerCountry",
    "customerPhone",
    "customerCredit",
    "clientTypes",
    "createdAt",
    "lastChanged",
]


def add_vocabulary(engine: Engine, client: Client, names: tuple[str, ...] = VOCABULARY) -> None:
    with building(engine, client.tenant.id) as b:
        b.client_types(*names)


@pytest.fixture
def vocabulary(engine: Engine, client: Client) -> tuple[str, ...]:
    add_vocabulary(engine, client)
    return VOCABULARY


def create_customer(http: TestClient, client: Client, **fields: Any) -> dict[str, Any]:
    """POST /customer with a valid body (overridable); returns the created resource."""
    body: dict[str, Any] = {"email": "anna@example.org", "customerLastName": "Jansen", **fields}
    response = http.post(client.base + "/customer", json=body, headers=client.auth)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def stored(engine: Engine, client: Client) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    """Every customer row and tag row of the client, to prove a refused request wrote nothing."""
    with engine.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(
                select(customers)
                .where(customers.c.tenant_id == client.tenant.id)
                .order_by(customers.c.id)
            ).mappings()
        ]
        tags = [
            tuple(r)
            for r in conn.execute(
                select(customer_tags.c.customer_id, customer_tags.c.name)
                .where(customer_tags.c.tenant_id == client.tenant.id)
                .order_by(customer_tags.c.customer_id, customer_tags.c.name)
            )
        ]
    return rows, tags


def customer_row(engine: Engine, customer_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(customers).where(customers.c.id == customer_id)).mappings().one()
    return dict(row)


def last_changed(engine: Engine, customer_id: int) -> int:
    """The stored stamp in microseconds (the API renders whole seconds only)."""
    value: int = customer_row(engine, customer_id)["last_changed_at"]
    return value
