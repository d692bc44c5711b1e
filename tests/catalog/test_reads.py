"""Catalog reads: events, productions, halls, seating plans, payment methods, availability."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from boxoffice.server.carts.tables import carts
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.places.tables import place_claims
from tests.builders import (
    BALKON,
    ENDED,
    OTHER_PRODUCTION_EVENT,
    PARKET,
    RESERVED,
    UNRESERVED,
    Catalog,
    at,
    build_catalog,
    building,
)
from tests.conftest import Client, new_client


@pytest.fixture
def catalog(engine: Engine, client: Client) -> Catalog:
    return build_catalog(engine, client)


def event_ids(http: TestClient, client: Client, **params: str) -> list[int]:
    response = http.get(client.base + "/event", params=params, headers=client.auth)
    assert response.status_code == 200, response.text
    return [e["eventId"] for e in response.json()]


def test_event_list_shape_and_order(http: TestClient, client: Client, catalog: Catalog) -> None:
    response = http.get(client.base + "/event", headers=client.auth)
    assert response.status_code == 200
    body = response.json()
    assert [e["eventId"] for e in body] == [ENDED, RESERVED, UNRESERVED, OTHER_PRODUCTION_EVENT]
    assert body[1] == {
        "eventId": RESERVED,
        "productionId": 100,
        "eventName": "Hamlet",
        "eventType": "theatre",
        "eventTags": ["drama", "english"],
        "start": "2030-04-01T20:30:00+02:00",
        "end": "2030-04-01T22:30:00+02:00",
        "hallId": 1,
        "prices": [
            {"priceId": "STD", "priceName": "Standard", "rankId": 1, "amount": 24.5},
            {"priceId": "RED", "priceName": "Reduced", "rankId": 1, "amount": 19.0},
            {"priceId": "R2", "priceName": "Rang 2", "rankId": 2, "amount": 15.0},
        ],
    }
    assert body[2]["eventTags"] is None and body[2]["eventType"] is None
    # Money is rendered with exactly two decimals.
    assert '"amount":24.50' in response.text and '"amount":19.00' in response.text
    assert "availability" not in body[1]


def test_event_list_date_bounds(http: TestClient, client: Client, catalog: Catalog) -> None:
    assert event_ids(http, client, startDate="2030-04-01") == [
        RESERVED,
        UNRESERVED,
        OTHER_PRODUCTION_EVENT,
    ]
    # A bare endDate includes that whole day (in the client's zone).
    assert event_ids(http, client, endDate="2030-04-01") == [ENDED, RESERVED]
    assert event_ids(http, client, startDate="2030-04-02", endDate="2030-04-02") == [UNRESERVED]
    # A date-time endDate is inclusive to the instant; without offset it is local time.
    assert event_ids(http, client, endDate="2030-04-01T20:30:00+02:00") == [ENDED, RESERVED]
    assert event_ids(http, client, endDate="2030-04-01T20:29:59") == [ENDED]
    assert event_ids(http, client, endDate="2030-04-01T18:30:00Z") == [ENDED, RESERVED]
    assert event_ids(http, client, startDate="2030-04-01T20:30:01+02:00") == [
        UNRESERVED,
        OTHER_PRODUCTION_EVENT,
    ]
    assert event_ids(http, client, startDate="2031-01-01") == []
    assert len(event_ids(http, client, startDate="", endDate="")) == 4
    assert event_ids(http, client, startDate="2030-05-01", endDate="2030-04-01") == []


@pytest.mark.parametrize("param", ["startDate", "endDate"])
@pytest.mark.parametrize("value", ["tomorrow", "2030-13-01", "2030-04-01T25:00", "01-04-2030"])
def test_event_list_refuses_bad_dates(
    http: TestClient, client: Client, catalog: Catalog, param: str, value: str
) -> None:
    response = http.get(client.base + "/event", params={param: value}, headers=client.auth)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [param]


def test_times_render_and_dates_read_in_the_clients_zone(http: TestClient, engine: Engine) -> None:
    late = 300  # starts 2030-04-02 03:00 in Amsterdam = 2030-04-01 21:00 in New York
    seen = {}
    for zone in ("America/New_York", "Europe/Amsterdam"):
        client = new_client(engine, timezone=zone)
        build_catalog(engine, client)
        with building(engine, client.tenant.id) as b:
            b.event(
                late,
                start_at=at("2030-04-02T03:00:00+02:00"),
                end_at=at("2030-04-02T04:00:00+02:00"),
            )
        event = http.get(f"{client.base}/event/{RESERVED}", headers=client.auth).json()
        seen[zone] = (event["start"], event_ids(http, client, endDate="2030-04-01"))
    assert seen["America/New_York"] == ("2030-04-01T14:30:00-04:00", [ENDED, RESERVED, late])
    assert seen["Europe/Amsterdam"] == ("2030-04-01T20:30:00+02:00", [ENDED, RESERVED])


def test_single_event_adds_availability_and_blocks(
    http: TestClient, client: Client, catalog: Catalog
) -> None:
    body = http.get(f"{client.base}/event/{RESERVED}", headers=client.auth).json()
    # Rank 1: 30 seats, 3 blocked. Rank 2: Parket row 4 (10) and Balkon (6).
    assert body["availability"] == [
        {"rankId": 1, "available": 27},
        {"rankId": 2, "available": 16},
    ]
    assert body["blockAvailability"] == [
        {"blockType": "press", "blockName": "Pers", "count": 2},
        {"blockType": "wheel", "blockName": "Rolstoel", "count": 1},
    ]
    assert body["prices"][0]["priceId"] == "STD"

    unreserved = http.get(f"{client.base}/event/{UNRESERVED}", headers=client.auth).json()
    assert unreserved["availability"] == [{"rankId": 2, "available": 45}]
    assert unreserved["blockAvailability"] == [
        {"blockType": "group", "blockName": "Genodigden", "count": 5}
    ]


def test_availability_counts_sales_and_live_holds_not_expired_ones(
    http: TestClient, engine: Engine, client: Client, catalog: Catalog
) -> None:
    cart = http.post(client.base + "/cart", headers=client.auth).json()["cartId"]
    added = http.post(
        f"{client.base}/cart/{cart}",
        json=[
            {"priceId": "STD", "rankId": 1, "numberOfTickets": 2},
            {"priceId": "FREE", "rankId": 2, "numberOfTickets": 3},
        ],
        headers=client.auth,
    )
    assert added.status_code == 200, added.text

    def available(event_id: int) -> list[int]:
        body = http.get(f"{client.base}/event/{event_id}", headers=client.auth).json()
        return [a["available"] for a in body["availability"]]

    assert available(RESERVED) == [25, 16]
    assert available(UNRESERVED) == [42]
    # Once the holds have expired they no longer count, even before anyone deletes them.
    with write_transaction(engine) as tx:
        tx.conn.execute(update(carts).where(carts.c.id == cart).values(expires_at=1))
        tx.conn.execute(
            update(place_claims)
            .where(place_claims.c.tenant_id == client.tenant.id)
            .values(expires_at=1)
        )
    assert available(RESERVED) == [27, 16]
    assert available(UNRESERVED) == [45]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/event/999", "Event not found."),
        ("/event/0", "Event not found."),
        ("/event/99999999999999999999999", "Event not found."),
        ("/production/999", "Production not found."),
        ("/hall/999", "Hall not found."),
        ("/seating/999", "Event not found."),
    ],
)
def test_unknown_ids_are_404(
    http: TestClient, client: Client, catalog: Catalog, path: str, message: str
) -> None:
    response = http.get(client.base + path, headers=client.auth)
    assert response.status_code == 404
    assert response.json() == {"message": message}


def test_another_clients_catalog_is_invisible(
    http: TestClient, engine: Engine, client: Client, other_client: Client, catalog: Catalog
) -> None:
    for path in (f"/event/{RESERVED}", "/production/100", "/hall/1", f"/seating/{RESERVED}"):
        response = http.get(other_client.base + path, headers=other_client.auth)
        assert response.status_code == 404, path
    for path in ("/event", "/hall", "/paymentmethods"):
        assert http.get(other_client.base + path, headers=other_client.auth).json() == []


def test_non_numeric_id_is_422(http: TestClient, client: Client, catalog: Catalog) -> None:
    response = http.get(client.base + "/event/abc", headers=client.auth)
    assert response.status_code == 422
    assert "eventId" in response.json()["errors"]


def test_production_with_its_events(http: TestClient, client: Client, catalog: Catalog) -> None:
    body = http.get(client.base + "/production/100", headers=client.auth).json()
    assert body["productionId"] == 100 and body["productionName"] == "Hamlet"
    assert [e["eventId"] for e in body["events"]] == [ENDED, RESERVED, UNRESERVED]
    assert body["events"][1]["prices"][0]["priceId"] == "STD"
    lear = http.get(client.base + "/production/101", headers=client.auth).json()
    assert [e["eventId"] for e in lear["events"]] == [OTHER_PRODUCTION_EVENT]


def test_halls(http: TestClient, client: Client, catalog: Catalog) -> None:
    halls = http.get(client.base + "/hall", headers=client.auth).json()
    assert [h["hallId"] for h in halls] == [1, 2]
    assert halls[0] == {
        "hallId": 1,
        "hallName": "Zaal 1",
        "hallAddress": "Kerkstraat 1",
        "hallZip": "1017 GA",
        "hallCity": "Amsterdam",
        "hallPhone": "0201234567",
        "hallUrl": "https://example.org",
    }
    assert http.get(client.base + "/hall/2", headers=client.auth).json()["hallId"] == 2


def test_seat_plan_of_a_reserved_event(http: TestClient, client: Client, catalog: Catalog) -> None:
    body = http.get(f"{client.base}/seating/{RESERVED}", headers=client.auth).json()
    assert body["eventId"] == RESERVED and body["hallId"] == 1
    assert body["priceLevels"] == [
        {"priceId": "STD", "rankId": 1, "name": "Standard", "amount": 24.5},
        {"priceId": "RED", "rankId": 1, "name": "Reduced", "amount": 19.0},
        {"priceId": "R2", "rankId": 2, "name": "Rang 2", "amount": 15.0},
    ]
    assert [(s["sectionId"], s["sectionName"]) for s in body["sections"]] == [
        (PARKET, "Parket"),
        (BALKON, "Balkon"),
    ]
    parket = body["sections"][0]
    assert [r["rowNr"] for r in parket["rows"]] == [1, 2, 3, 4]
    row1 = parket["rows"][0]["seats"]
    assert [s["seatNr"] for s in row1] == list(range(1, 11))
    assert row1[0] == {
        "seatId": catalog.seat[(PARKET, 1, 1)],
        "seatNr": 1,
        "rankId": 1,
        "available": False,  # blocked (wheelchair)
    }
    assert row1[1]["available"] is True
    assert parket["rows"][3]["seats"][0]["rankId"] == 2
    assert body["available"] == 27 + 16

    # A held seat shows as taken.
    cart = http.post(client.base + "/cart", headers=client.auth).json()["cartId"]
    seat = catalog.seat[(PARKET, 3, 5)]
    held = http.post(
        f"{client.base}/cart/{cart}",
        json=[{"priceId": "STD", "rankId": 1, "seatId": seat}],
        headers=client.auth,
    )
    assert held.status_code == 200
    after = http.get(f"{client.base}/seating/{RESERVED}", headers=client.auth).json()
    assert after["sections"][0]["rows"][2]["seats"][4] == {
        "seatId": seat,
        "seatNr": 5,
        "rankId": 1,
        "available": False,
    }
    assert after["available"] == 27 + 16 - 1


def test_seat_plan_only_sells_ranks_with_prices(
    http: TestClient, client: Client, catalog: Catalog
) -> None:
    # Event 203 (hall 2) has prices for rank 1 only; all 8 seats are rank 1.
    body = http.get(f"{client.base}/seating/{OTHER_PRODUCTION_EVENT}", headers=client.auth)
    assert body.json()["available"] == 8


def test_seat_plan_of_an_unreserved_event(
    http: TestClient, client: Client, catalog: Catalog
) -> None:
    body = http.get(f"{client.base}/seating/{UNRESERVED}", headers=client.auth).json()
    assert body["sections"] == []
    assert body["available"] == 45
    assert body["priceLevels"] == [
        {"priceId": "FREE", "rankId": 2, "name": "Vrije plaats", "amount": 15.0}
    ]


def test_payment_methods(http: TestClient, client: Client, catalog: Catalog) -> None:
    response = http.get(client.base + "/paymentmethods", headers=client.auth)
    assert response.json() == [
        {"paymentMethodId": 1, "name": "iDEAL", "fee": 0.0},
        {"paymentMethodId": 2, "name": "Invoice", "fee": 2.5},
    ]
    assert '"fee":0.00' in response.text and '"fee":2.50' in response.text
