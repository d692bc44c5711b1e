"""DELETE /customer/{id}: erasure of personal data, keeping the record, orders and waiting list."""

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from boxoffice.server.orders.tables import orders
from boxoffice.server.values.clock import now_micros
from boxoffice.server.waitinglist.tables import waiting_list_entries
from tests.builders import building
from tests.conftest import Client
from tests.customers.conftest import (
    USER_KEYS,
    create_customer,
    customer_row,
    last_changed,
    stored,
)

PERSONAL = [
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
]

FULL = {
    "email": "anna@example.org",
    "customerFirstName": "Anna",
    "customerLastName": "Jansen",
    "customerSalutation": "F",
    "customerPreposition": "van",
    "customerAddress": "Kerkstraat",
    "customerHouseNr": "12",
    "customerZip": "1017GA",
    "customerCity": "Amsterdam",
    "customerCountry": "NL",
    "customerPhone": "0201234567",
    "customerCredit": "12.50",
}


def add_order_and_waiting_entry(engine: Engine, client: Client, customer_id: int) -> None:
    now = now_micros()
    with building(engine, client.tenant.id) as b:
        b.order(changed_at=now, customer_id=customer_id)
        b.waiting(changed_at=now, customer_id=customer_id, event_id=1)


def related(engine: Engine, customer_id: int) -> tuple[list[dict[str, object]], ...]:
    with engine.connect() as conn:
        return tuple(
            [
                dict(r)
                for r in conn.execute(select(t).where(t.c.customer_id == customer_id)).mappings()
            ]
            for t in (orders, waiting_list_entries)
        )


def test_erasure_clears_personal_data_and_tags_and_keeps_the_rest(
    http: TestClient, engine: Engine, client: Client, vocabulary: tuple[str, ...]
) -> None:
    anna = create_customer(http, client, **FULL)
    customer_id = anna["customerId"]
    http.post(
        f"{client.base}/customer/{customer_id}/clienttypes", json=["vip"], headers=client.auth
    )
    add_order_and_waiting_entry(engine, client, customer_id)
    kept = related(engine, customer_id)
    stamp = last_changed(engine, customer_id)

    response = http.delete(f"{client.base}/customer/{customer_id}", headers=client.auth)

    assert response.status_code == 200
    body = response.json()
    assert list(body) == USER_KEYS
    assert body["customerId"] == customer_id
    assert all(body[key] is None for key in PERSONAL)
    assert body["clientTypes"] == []
    assert '"customerCredit":12.50' in response.text
    assert body["createdAt"] == anna["createdAt"]
    row = customer_row(engine, customer_id)
    assert row["email_key"] is None
    assert row["erased_at"] is not None
    assert row["last_changed_at"] > stamp
    assert row["erased_at"] == row["last_changed_at"]
    assert stored(engine, client)[1] == []
    assert related(engine, customer_id) == kept
    assert http.get(f"{client.base}/customer/{customer_id}", headers=client.auth).json() == body


def test_erasing_twice_is_a_200_that_changes_nothing(
    http: TestClient, engine: Engine, client: Client
) -> None:
    anna = create_customer(http, client)
    url = f"{client.base}/customer/{anna['customerId']}"
    first = http.delete(url, headers=client.auth)
    before = stored(engine, client)
    second = http.delete(url, headers=client.auth)
    assert second.status_code == 200
    assert second.json() == first.json()
    assert stored(engine, client) == before


def test_erasure_moves_last_changed_of_that_customer_only(
    http: TestClient, engine: Engine, client: Client
) -> None:
    anna = create_customer(http, client, email="anna@example.org")
    bert = create_customer(http, client, email="bert@example.org")
    bert_before = customer_row(engine, bert["customerId"])
    http.delete(f"{client.base}/customer/{anna['customerId']}", headers=client.auth)
    assert customer_row(engine, bert["customerId"]) == bert_before


def test_an_erased_email_is_free_again_and_not_found(http: TestClient, client: Client) -> None:
    anna = create_customer(http, client, email="anna@example.org")
    http.delete(f"{client.base}/customer/{anna['customerId']}", headers=client.auth)
    found = http.post(
        f"{client.base}/customer/findByEmail",
        json={"email": "anna@example.org"},
        headers=client.auth,
    )
    assert found.status_code == 404
    again = create_customer(http, client, email="anna@example.org")
    assert again["customerId"] != anna["customerId"]


def test_an_erased_customer_cannot_be_changed(
    http: TestClient, engine: Engine, client: Client, vocabulary: tuple[str, ...]
) -> None:
    anna = create_customer(http, client)
    url = f"{client.base}/customer/{anna['customerId']}"
    http.delete(url, headers=client.auth)
    before = stored(engine, client)
    for response in (
        http.put(url, json={"customerFirstName": "Anna"}, headers=client.auth),
        http.post(url + "/clienttypes", json=["vip"], headers=client.auth),
    ):
        assert response.status_code == 409
        assert response.json() == {
            "message": "This customer has been erased and cannot be changed."
        }
    # Requests that change nothing still succeed.
    assert http.put(url, json={"customerFirstName": None}, headers=client.auth).status_code == 200
    assert http.post(url + "/clienttypes", json=[], headers=client.auth).json() == []
    assert stored(engine, client) == before


def test_erasing_unknown_or_other_clients_customer_is_a_404(
    http: TestClient, engine: Engine, client: Client, other_client: Client
) -> None:
    theirs = create_customer(http, other_client)
    before = stored(engine, other_client)
    for customer_id in (theirs["customerId"], 2_000_000_000):
        response = http.delete(f"{client.base}/customer/{customer_id}", headers=client.auth)
        assert response.status_code == 404
        assert response.json() == {"message": "Customer not found."}
    assert stored(engine, other_client) == before
