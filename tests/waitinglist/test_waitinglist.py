"""The waiting list: joining, listing, and the allowed moves between types."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.waitinglist.tables import waiting_list_entries as entries
from tests.builders import (
    ENDED,
    RESERVED,
    UNRESERVED,
    Catalog,
    add_customer,
    build_catalog,
    erase_customer,
)
from tests.conftest import Client

# TestClient answers with httpx2's Response when httpx2 is installed, else httpx's.
Reply = Any


@pytest.fixture
def catalog(engine: Engine, client: Client) -> Catalog:
    return build_catalog(engine, client)


@pytest.fixture
def customer(engine: Engine, client: Client) -> int:
    return add_customer(engine, client, tags=["friend"])


def join(http: TestClient, client: Client, body: Any) -> Reply:
    return http.post(client.base + "/waitinglist", json=body, headers=client.auth)


def change(http: TestClient, client: Client, waiting_id: int, body: Any) -> Reply:
    return http.put(f"{client.base}/waitinglist/{waiting_id}", json=body, headers=client.auth)


def rows(engine: Engine, tenant_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        found = conn.execute(
            select(entries).where(entries.c.tenant_id == tenant_id).order_by(entries.c.id)
        ).mappings()
        return [dict(r) for r in found]


def test_join(
    http: TestClient, engine: Engine, client: Client, catalog: Catalog, customer: int
) -> None:
    response = join(
        http, client, {"customerId": customer, "eventId": RESERVED, "numberOfTickets": 2}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert list(body) == [
        "waitingId",
        "customerId",
        "eventId",
        "numberOfTickets",
        "type",
        "createdAt",
        "notifiedAt",
        "lastChanged",
        "user",
    ]
    assert (body["customerId"], body["eventId"], body["numberOfTickets"]) == (customer, RESERVED, 2)
    assert body["type"] == "waiting" and body["notifiedAt"] is None
    assert body["createdAt"] == body["lastChanged"]
    assert body["user"]["customerId"] == customer
    assert body["user"]["clientTypes"] == ["friend"]
    assert [r["id"] for r in rows(engine, client.tenant.id)] == [body["waitingId"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customerId": 999999, "eventId": RESERVED, "numberOfTickets": 1}, "customerId"),
        ({"customerId": "CUSTOMER", "eventId": 999, "numberOfTickets": 1}, "eventId"),
        ({"customerId": "CUSTOMER", "eventId": RESERVED, "numberOfTickets": 0}, "numberOfTickets"),
        ({"customerId": "CUSTOMER", "eventId": RESERVED, "numberOfTickets": 21}, "numberOfTickets"),
        (
            {"customerId": "CUSTOMER", "eventId": RESERVED, "numberOfTickets": "two"},
            "numberOfTickets",
        ),
        ({"customerId": "CUSTOMER", "eventId": RESERVED}, "numberOfTickets"),
        ({"customerId": "CUSTOMER", "numberOfTickets": 1}, "eventId"),
        ({"customerId": "CUSTOMER", "eventId": RESERVED, "numberOfTickets": 1, "x": 1}, "x"),
    ],
)
def test_invalid_join_is_422_and_writes_nothing(
    http: TestClient,
    engine: Engine,
    client: Client,
    catalog: Catalog,
    customer: int,
    body: dict[str, Any],
    field: str,
) -> None:
    body = {k: (customer if v == "CUSTOMER" else v) for k, v in body.items()}
    response = join(http, client, body)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]
    assert rows(engine, client.tenant.id) == []


def test_customer_or_event_of_another_client_is_422(
    http: TestClient,
    engine: Engine,
    client: Client,
    other_client: Client,
    catalog: Catalog,
    customer: int,
) -> None:
    build_catalog(engine, other_client)
    foreign = add_customer(engine, other_client)
    response = join(
        http, client, {"customerId": foreign, "eventId": RESERVED, "numberOfTickets": 1}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"customerId": [f"Customer {foreign} does not exist."]}
    # The other client has event 200 too, but not this customer.
    response = join(
        http, other_client, {"customerId": customer, "eventId": RESERVED, "numberOfTickets": 1}
    )
    assert response.status_code == 422
    assert rows(engine, client.tenant.id) == [] and rows(engine, other_client.tenant.id) == []


def test_erased_customer_is_422(
    http: TestClient, engine: Engine, client: Client, catalog: Catalog, customer: int
) -> None:
    erase_customer(engine, client, customer)
    response = join(
        http, client, {"customerId": customer, "eventId": RESERVED, "numberOfTickets": 1}
    )
    assert response.status_code == 422
    assert "erased" in response.json()["errors"]["customerId"][0]


def test_one_active_entry_per_customer_and_event(
    http: TestClient, engine: Engine, client: Client, catalog: Catalog, customer: int
) -> None:
    body = {"customerId": customer, "eventId": RESERVED, "numberOfTickets": 1}
    first = join(http, client, body).json()["waitingId"]
    response = join(http, client, body)
    assert response.status_code == 409
    assert str(first) in response.json()["message"]
    assert join(http, client, {**body, "eventId": UNRESERVED}).status_code == 201
    # Once cancelled, the customer may join again.
    assert change(http, client, first, {"type": "cancelled"}).status_code == 200
    assert join(http, client, body).status_code == 201
    assert len(rows(engine, client.tenant.id)) == 3


def test_ended_event_is_409(
    http: TestClient, engine: Engine, client: Client, catalog: Catalog, customer: int
) -> None:
    response = join(http, client, {"customerId": customer, "eventId": ENDED, "numberOfTickets": 1})
    assert response.status_code == 409
    assert rows(engine, client.tenant.id) == []


def test_list(
    http: TestClient,
    engine: Engine,
    client: Client,
    other_client: Client,
    catalog: Catalog,
    customer: int,
) -> None:
    second = add_customer(engine, client, email="bob@example.org")
    ids = [
        join(http, client, {"customerId": c, "eventId": e, "numberOfTickets": 1}).json()[
            "waitingId"
        ]
        for c, e in ((customer, RESERVED), (second, UNRESERVED), (second, RESERVED))
    ]

    def listed(params: dict[str, Any], who: Client = client) -> Reply:
        return http.get(who.base + "/waitinglist", params=params, headers=who.auth)

    response = listed({"eventId": RESERVED})
    assert response.status_code == 200
    body = response.json()
    assert [e["waitingId"] for e in body] == [ids[0], ids[2]]
    assert body[1]["user"]["email"] == "bob@example.org"
    assert [e["waitingId"] for e in listed({}).json()] == [ids[0], ids[2], ids[1]]
    assert listed({"eventId": 999}).status_code == 404
    assert listed({"eventId": 999}).json() == {"message": "Event not found."}
    assert listed({"eventId": "x"}).status_code == 422
    build_catalog(engine, other_client)
    assert listed({"eventId": RESERVED}, other_client).json() == []
    assert listed({}, other_client).json() == []


TRANSITIONS = [
    (["notified"], "notified"),
    (["cancelled"], "cancelled"),
    (["notified", "converted"], "converted"),
    (["notified", "expired"], "expired"),
    (["notified", "cancelled"], "cancelled"),
]


@pytest.mark.parametrize(("moves", "final"), TRANSITIONS)
def test_allowed_transitions(
    http: TestClient,
    engine: Engine,
    client: Client,
    catalog: Catalog,
    customer: int,
    moves: list[str],
    final: str,
) -> None:
    waiting_id = join(
        http, client, {"customerId": customer, "eventId": RESERVED, "numberOfTickets": 3}
    ).json()["waitingId"]
    for move in moves:
        # Put lastChanged in the past first, so that each move visibly moves it forward.
        with write_transaction(engine) as tx:
            tx.conn.execute(
                update(entries).where(entries.c.id == waiting_id).values(last_changed_at=5)
            )
        response = change(http, client, waiting_id, {"type": move})
        assert response.status_code == 200, response.text
        assert response.json()["type"] == move
        assert rows(engine, client.tenant.id)[0]["last_changed_at"] > 5
    body = response.json()
    assert body["type"] == final
    stored = rows(engine, client.tenant.id)[0]
    assert stored["type"] == final
    if "notified" in moves:
        assert body["notifiedAt"] is not None
        assert stored["notified_at"] is not None and stored["notified_at"] >= stored["created_at"]
    else:
        assert body["notifiedAt"] is None
    assert body["user"]["customerId"] == customer


@pytest.mark.parametrize(
    ("moves", "refused"),
    [
        ([], "waiting"),
        ([], "converted"),
        ([], "expired"),
        (["notified"], "notified"),
        (["notified"], "waiting"),
        (["cancelled"], "notified"),
        (["cancelled"], "waiting"),
        (["notified", "converted"], "cancelled"),
        (["notified", "expired"], "notified"),
    ],
)
def test_other_transitions_are_422_and_change_nothing(
    http: TestClient,
    engine: Engine,
    client: Client,
    catalog: Catalog,
    customer: int,
    moves: list[str],
    refused: str,
) -> None:
    waiting_id = join(
        http, client, {"customerId": customer, "eventId": RESERVED, "numberOfTickets": 1}
    ).json()["waitingId"]
    for move in moves:
        assert change(http, client, waiting_id, {"type": move}).status_code == 200
    before = rows(engine, client.tenant.id)
    response = change(http, client, waiting_id, {"type": refused})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["type"]
    assert rows(engine, client.tenant.id) == before


def test_number_of_tickets_can_change_while_active(
    http: TestClient, engine: Engine, client: Client, catalog: Catalog, customer: int
) -> None:
    waiting_id = join(
        http, client, {"customerId": customer, "eventId": RESERVED, "numberOfTickets": 1}
    ).json()["waitingId"]
    response = change(http, client, waiting_id, {"numberOfTickets": 4})
    assert response.status_code == 200
    assert (response.json()["numberOfTickets"], response.json()["type"]) == (4, "waiting")
    change(http, client, waiting_id, {"type": "cancelled"})
    response = change(http, client, waiting_id, {"numberOfTickets": 2})
    assert response.status_code == 422
    assert rows(engine, client.tenant.id)[0]["number_of_tickets"] == 4


@pytest.mark.parametrize(
    "body",
    [{}, {"type": "done"}, {"type": None}, {"type": 1}, {"numberOfTickets": 0}, {"kind": "x"}],
)
def test_invalid_change_is_422(
    http: TestClient, engine: Engine, client: Client, catalog: Catalog, customer: int, body: Any
) -> None:
    waiting_id = join(
        http, client, {"customerId": customer, "eventId": RESERVED, "numberOfTickets": 1}
    ).json()["waitingId"]
    before = rows(engine, client.tenant.id)
    assert change(http, client, waiting_id, body).status_code == 422
    assert rows(engine, client.tenant.id) == before


def test_unknown_or_foreign_entry_is_404(
    http: TestClient,
    engine: Engine,
    client: Client,
    other_client: Client,
    catalog: Catalog,
    customer: int,
) -> None:
    waiting_id = join(
        http, client, {"customerId": customer, "eventId": RESERVED, "numberOfTickets": 1}
    ).json()["waitingId"]
    for who, entry in ((client, waiting_id + 1000), (other_client, waiting_id)):
        response = change(http, who, entry, {"type": "notified"})
        assert response.status_code == 404
        assert response.json() == {"message": "Waiting list entry not found."}
    assert rows(engine, client.tenant.id)[0]["type"] == "waiting"
