"""POST /customer, POST /customer/findByEmail and GET /customer/{id}."""

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import Client
from tests.customers.conftest import USER_KEYS, create_customer, customer_row, stored

FULL = {
    "email": "Anna.Jansen@Example.org",
    "customerFirstName": "Anna",
    "customerLastName": "Jansen",
    "customerSalutation": "F",
    "customerPreposition": "van",
    "customerAddress": "Kerkstraat",
    "customerHouseNr": "12a",
    "customerZip": "1017 GA",
    "customerCity": "Amsterdam",
    "customerCountry": "NL",
    "customerPhone": "0201234567",
    "customerCredit": "24.50",
}


def test_create_returns_the_user_resource(http: TestClient, engine: Engine, client: Client) -> None:
    response = http.post(client.base + "/customer", json=FULL, headers=client.auth)
    assert response.status_code == 201
    body = response.json()
    assert list(body) == USER_KEYS
    assert isinstance(body["customerId"], int) and body["customerId"] > 0
    expected = {key: value for key, value in FULL.items() if key != "customerCredit"}
    assert {key: body[key] for key in expected} == expected
    assert '"customerCredit":24.50' in response.text
    assert body["clientTypes"] == []
    assert body["createdAt"] == body["lastChanged"]
    assert datetime.fromisoformat(body["createdAt"]).utcoffset() is not None
    row = customer_row(engine, body["customerId"])
    assert row["tenant_id"] == client.tenant.id
    assert row["email"] == "Anna.Jansen@Example.org"
    assert row["email_key"] == "anna.jansen@example.org"
    assert row["credit_cents"] == 2450
    assert row["created_at"] == row["last_changed_at"]
    assert row["erased_at"] is None


def test_only_email_and_last_name_are_required(http: TestClient, client: Client) -> None:
    response = http.post(
        client.base + "/customer",
        json={"email": "a@example.org", "customerLastName": "Jansen"},
        headers=client.auth,
    )
    assert response.status_code == 201
    body = response.json()
    optional = [k for k in USER_KEYS[2:12] if k != "customerLastName"]
    assert all(body[key] is None for key in optional)
    assert '"customerCredit":0.00' in response.text


def test_text_is_trimmed_and_empty_text_is_null(http: TestClient, client: Client) -> None:
    body = create_customer(
        http,
        client,
        email="  a@example.org ",
        customerLastName=" Jansen ",
        customerFirstName="   ",
        customerCity="",
        customerPhone=" 0612345678 ",
        customerAddress="Kerkstraat 1\n",
    )
    assert body["email"] == "a@example.org"
    assert body["customerLastName"] == "Jansen"
    assert body["customerFirstName"] is None
    assert body["customerCity"] is None
    assert body["customerPhone"] == "0612345678"
    assert body["customerAddress"] == "Kerkstraat 1"


@pytest.mark.parametrize(
    ("credit", "rendered"),
    [
        ("24.5", "24.50"),
        (10, "10.00"),
        (0.1, "0.10"),
        ("0", "0.00"),
        (999999999.99, "999999999.99"),
    ],
)
def test_credit_is_a_string_or_a_number(
    http: TestClient, client: Client, credit: Any, rendered: str
) -> None:
    response = http.post(
        client.base + "/customer",
        json={"email": "a@example.org", "customerLastName": "J", "customerCredit": credit},
        headers=client.auth,
    )
    assert response.status_code == 201
    assert f'"customerCredit":{rendered},' in response.text


MISSING = object()

INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("missing email", {"email": MISSING}, "email"),
    ("null email", {"email": None}, "email"),
    ("empty email", {"email": "  "}, "email"),
    ("email without at", {"email": "anna.example.org"}, "email"),
    ("email without domain dot", {"email": "anna@localhost"}, "email"),
    ("email with space", {"email": "an na@example.org"}, "email"),
    ("email a number", {"email": 12}, "email"),
    ("email too long", {"email": "a" * 244 + "@example.org"}, "email"),
    ("missing last name", {"customerLastName": MISSING}, "customerLastName"),
    ("empty last name", {"customerLastName": ""}, "customerLastName"),
    ("last name too long", {"customerLastName": "x" * 256}, "customerLastName"),
    ("first name a number", {"customerFirstName": 5}, "customerFirstName"),
    ("first name a list", {"customerFirstName": ["a"]}, "customerFirstName"),
    ("first name with NUL", {"customerFirstName": "a\x00b"}, "customerFirstName"),
    ("city with newline", {"customerCity": "Amster\ndam"}, "customerCity"),
    ("country too long", {"customerCountry": "x" * 256}, "customerCountry"),
    ("address too long", {"customerAddress": "x" * 256}, "customerAddress"),
    ("preposition too long", {"customerPreposition": "x" * 256}, "customerPreposition"),
    ("salutation two chars", {"customerSalutation": "MF"}, "customerSalutation"),
    ("house nr too long", {"customerHouseNr": "1" * 21}, "customerHouseNr"),
    ("zip too long", {"customerZip": "1" * 11}, "customerZip"),
    ("phone with plus", {"customerPhone": "+31201234567"}, "customerPhone"),
    ("phone with space", {"customerPhone": "020 1234567"}, "customerPhone"),
    ("phone non-ascii digits", {"customerPhone": "٠١٢"}, "customerPhone"),
    ("phone too long", {"customerPhone": "1" * 41}, "customerPhone"),
    ("phone a number", {"customerPhone": 201234567}, "customerPhone"),
    ("negative credit", {"customerCredit": -1}, "customerCredit"),
    ("credit three decimals", {"customerCredit": "1.234"}, "customerCredit"),
    ("credit float three decimals", {"customerCredit": 1.005}, "customerCredit"),
    ("credit text", {"customerCredit": "ten"}, "customerCredit"),
    ("credit boolean", {"customerCredit": True}, "customerCredit"),
    ("credit null", {"customerCredit": None}, "customerCredit"),
    ("credit huge", {"customerCredit": 10**30}, "customerCredit"),
    ("credit huge float", {"customerCredit": 1e300}, "customerCredit"),
    ("unknown field", {"customerAge": 4}, "customerAge"),
    ("snake_case field", {"customer_first_name": "Anna"}, "customer_first_name"),
]


@pytest.mark.parametrize(("case", "change", "field"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_input_is_a_422_naming_the_field_and_writes_nothing(
    http: TestClient, engine: Engine, client: Client, case: str, change: dict[str, Any], field: str
) -> None:
    body: dict[str, Any] = {"email": "a@example.org", "customerLastName": "Jansen"}
    for key, value in change.items():
        if value is MISSING:
            del body[key]
        else:
            body[key] = value
    before = stored(engine, client)
    response = http.post(client.base + "/customer", json=body, headers=client.auth)
    assert response.status_code == 422, case
    payload = response.json()
    assert list(payload) == ["message", "errors"]
    assert field in payload["errors"], payload
    assert field in payload["message"]
    assert stored(engine, client) == before


@pytest.mark.parametrize(
    "content", [b"{not json", b"[]", b'"x"', b"", b'{"email": "a@example.org"'], ids=repr
)
def test_a_body_that_is_not_an_object_is_a_422(
    http: TestClient, engine: Engine, client: Client, content: bytes
) -> None:
    before = stored(engine, client)
    response = http.post(
        client.base + "/customer",
        content=content,
        headers={**client.auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "message" in response.json()
    assert stored(engine, client) == before


def test_duplicate_email_is_a_422_on_email_whatever_the_case(
    http: TestClient, engine: Engine, client: Client
) -> None:
    create_customer(http, client, email="anna@example.org")
    before = stored(engine, client)
    response = http.post(
        client.base + "/customer",
        json={"email": " ANNA@Example.ORG", "customerLastName": "Other"},
        headers=client.auth,
    )
    assert response.status_code == 422
    assert response.json() == {
        "message": "A customer with this email address exists already.",
        "errors": {"email": ["A customer with this email address exists already."]},
    }
    assert stored(engine, client) == before


def test_emails_are_unique_per_client_only(
    http: TestClient, client: Client, other_client: Client
) -> None:
    mine = create_customer(http, client, email="anna@example.org")
    theirs = create_customer(http, other_client, email="anna@example.org")
    assert mine["customerId"] != theirs["customerId"]


def test_find_by_email_is_case_insensitive(http: TestClient, client: Client) -> None:
    created = create_customer(http, client, email="Anna@Example.org")
    create_customer(http, client, email="bert@example.org")
    for email in ("anna@example.org", "ANNA@EXAMPLE.ORG", "  Anna@Example.org  "):
        response = http.post(
            client.base + "/customer/findByEmail", json={"email": email}, headers=client.auth
        )
        assert response.status_code == 200
        assert response.json() == created


def test_find_by_email_404s(http: TestClient, client: Client, other_client: Client) -> None:
    create_customer(http, other_client, email="anna@example.org")
    response = http.post(
        client.base + "/customer/findByEmail",
        json={"email": "anna@example.org"},
        headers=client.auth,
    )
    assert response.status_code == 404
    assert response.json() == {"message": "Customer not found."}


@pytest.mark.parametrize("body", [{}, {"email": 3}, {"email": "nope"}, {"email": "a@b.c", "x": 1}])
def test_find_by_email_refuses_invalid_input(
    http: TestClient, client: Client, body: dict[str, Any]
) -> None:
    response = http.post(client.base + "/customer/findByEmail", json=body, headers=client.auth)
    assert response.status_code == 422
    assert response.json()["errors"]


def test_get_returns_the_same_resource(http: TestClient, client: Client) -> None:
    created = create_customer(http, client, **FULL)
    response = http.get(f"{client.base}/customer/{created['customerId']}", headers=client.auth)
    assert response.status_code == 200
    assert response.json() == created
    assert list(response.json()) == USER_KEYS


def test_get_unknown_or_other_clients_customer_is_a_404(
    http: TestClient, client: Client, other_client: Client
) -> None:
    theirs = create_customer(http, other_client)
    for customer_id in (theirs["customerId"], 2_000_000_000):
        response = http.get(f"{client.base}/customer/{customer_id}", headers=client.auth)
        assert response.status_code == 404
        assert response.json() == {"message": "Customer not found."}


@pytest.mark.parametrize("bad_id", ["abc", "0", "-3", "1.5", "2147483648", "99999999999999999999"])
def test_a_malformed_customer_id_is_a_422(http: TestClient, client: Client, bad_id: str) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = http.request(
            method, f"{client.base}/customer/{bad_id}", headers=client.auth, json={}
        )
        assert response.status_code == 422, (method, bad_id)
        assert "customerId" in response.json()["errors"]
    response = http.get(f"{client.base}/customer/{bad_id}/clienttypes", headers=client.auth)
    assert response.status_code == 422
