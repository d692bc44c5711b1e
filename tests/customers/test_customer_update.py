"""PUT /customer/{id}: partial updates, clearing, uniqueness and change tracking."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import Client
from tests.customers.conftest import (
    USER_KEYS,
    create_customer,
    customer_row,
    last_changed,
    stored,
)


def put(http: TestClient, client: Client, customer_id: int, body: Any) -> Any:
    return http.put(f"{client.base}/customer/{customer_id}", json=body, headers=client.auth)


def test_put_changes_only_the_fields_present(
    http: TestClient, engine: Engine, client: Client
) -> None:
    created = create_customer(
        http, client, customerFirstName="Anna", customerCity="Utrecht", customerCredit=5
    )
    customer_id = created["customerId"]
    response = put(
        http,
        client,
        customer_id,
        {"customerCity": " Amsterdam ", "customerPhone": "0612345678", "customerCredit": "7.25"},
    )
    assert response.status_code == 200
    body = response.json()
    assert list(body) == USER_KEYS
    assert body["customerCity"] == "Amsterdam"
    assert body["customerPhone"] == "0612345678"
    assert '"customerCredit":7.25' in response.text
    unchanged = [k for k in USER_KEYS if k not in ("customerCity", "customerPhone", "lastChanged")]
    assert {k: body[k] for k in unchanged if k != "customerCredit"} == {
        k: created[k] for k in unchanged if k != "customerCredit"
    }
    assert customer_row(engine, customer_id)["credit_cents"] == 725
    got = http.get(f"{client.base}/customer/{customer_id}", headers=client.auth)
    assert got.json() == body


def test_explicit_null_or_empty_clears_an_optional_field(http: TestClient, client: Client) -> None:
    created = create_customer(http, client, customerFirstName="Anna", customerZip="1017GA")
    body = put(
        http, client, created["customerId"], {"customerFirstName": None, "customerZip": ""}
    ).json()
    assert body["customerFirstName"] is None
    assert body["customerZip"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": None}, "email"),
        ({"email": ""}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"customerLastName": None}, "customerLastName"),
        ({"customerLastName": "  "}, "customerLastName"),
        ({"customerCredit": None}, "customerCredit"),
        ({"customerCredit": "-0.01"}, "customerCredit"),
        ({"customerSalutation": "Mr"}, "customerSalutation"),
        ({"customerZip": 1017}, "customerZip"),
        ({"customerCity": "ok", "customerHobby": "x"}, "customerHobby"),
        ({"customerId": 5}, "customerId"),
    ],
    ids=repr,
)
def test_invalid_updates_are_422_and_write_nothing(
    http: TestClient, engine: Engine, client: Client, change: dict[str, Any], field: str
) -> None:
    created = create_customer(http, client, customerFirstName="Anna")
    before = stored(engine, client)
    response = put(http, client, created["customerId"], change)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert stored(engine, client) == before


def test_a_body_that_is_not_an_object_is_a_422(http: TestClient, client: Client) -> None:
    created = create_customer(http, client)
    assert put(http, client, created["customerId"], ["x"]).status_code == 422


def test_changing_to_a_taken_email_is_a_422_and_writes_nothing(
    http: TestClient, engine: Engine, client: Client
) -> None:
    create_customer(http, client, email="anna@example.org")
    bert = create_customer(http, client, email="bert@example.org")
    before = stored(engine, client)
    response = put(http, client, bert["customerId"], {"email": "ANNA@example.org"})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["email"]
    assert stored(engine, client) == before


def test_changing_the_case_of_ones_own_email_is_a_change(
    http: TestClient, engine: Engine, client: Client
) -> None:
    anna = create_customer(http, client, email="anna@example.org")
    stamp = last_changed(engine, anna["customerId"])
    response = put(http, client, anna["customerId"], {"email": "Anna@Example.org"})
    assert response.status_code == 200
    assert response.json()["email"] == "Anna@Example.org"
    assert customer_row(engine, anna["customerId"])["email_key"] == "anna@example.org"
    assert last_changed(engine, anna["customerId"]) > stamp


def test_a_change_moves_last_changed_of_that_customer_only(
    http: TestClient, engine: Engine, client: Client
) -> None:
    anna = create_customer(http, client, email="anna@example.org")
    bert = create_customer(http, client, email="bert@example.org")
    before_anna = customer_row(engine, anna["customerId"])
    before_bert = customer_row(engine, bert["customerId"])
    put(http, client, anna["customerId"], {"customerCity": "Leiden"})
    after_anna = customer_row(engine, anna["customerId"])
    assert after_anna["last_changed_at"] > before_anna["last_changed_at"]
    assert after_anna["created_at"] == before_anna["created_at"]
    assert customer_row(engine, bert["customerId"]) == before_bert


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"customerCity": "Leiden"},
        {"customerCity": " Leiden "},
        {"customerFirstName": None, "customerCredit": "3.00"},
        {"customerFirstName": "", "customerCredit": 3},
        {"email": "anna@example.org", "customerLastName": "Jansen"},
    ],
    ids=repr,
)
def test_an_update_that_changes_nothing_does_not_move_last_changed(
    http: TestClient, engine: Engine, client: Client, body: dict[str, Any]
) -> None:
    anna = create_customer(
        http, client, email="anna@example.org", customerCity="Leiden", customerCredit="3"
    )
    before = stored(engine, client)
    response = put(http, client, anna["customerId"], body)
    assert response.status_code == 200
    assert response.json() == anna
    assert stored(engine, client) == before


def test_put_unknown_or_other_clients_customer_is_a_404(
    http: TestClient, engine: Engine, client: Client, other_client: Client
) -> None:
    theirs = create_customer(http, other_client)
    before = stored(engine, other_client)
    for customer_id in (theirs["customerId"], 2_000_000_000):
        response = put(http, client, customer_id, {"customerCity": "Leiden"})
        assert response.status_code == 404
        assert response.json() == {"message": "Customer not found."}
    assert stored(engine, other_client) == before
