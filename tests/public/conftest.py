"""A client whose catalog uses every field the public API shows.

CATALOG is that catalog as a file (the loader's tests load it); `venue` builds the same rows
with the test data builder (tests/builders), so that the public API's tests do not depend
on the loader. Dates are fixed far in the past (ended) or far in the future (to come), so
the statuses the tests expect do not depend on when the suite runs.
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from boxoffice.server.values.instants import instant_to_micros
from tests.builders import Builder, building
from tests.conftest import Client

TIMEZONE = "Europe/Amsterdam"
HALL, PARK = 10, 20
HAMLET, PARKFEEST, EMPTY = 100, 200, 300
ON_SALE, NOT_ON_SALE, WITHDRAWN, ENDED, HIDDEN, VIEW_END = 101, 102, 103, 104, 105, 106
OUTDOOR = 201
SUB_EVENTS = (ON_SALE, NOT_ON_SALE, WITHDRAWN, ENDED, HIDDEN, VIEW_END, OUTDOOR)
MAX_TICKETS = 4
PARK_PLACES = 3


def _event(event_id: int, start: str, end: str, **fields: Any) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "eventName": f"Hamlet {event_id}",
        "start": start,
        "end": end,
        "hallId": HALL,
        "seating": "reserved",
        "prices": [
            {"priceId": f"R1-{event_id}", "priceName": "Regulier", "rankId": 1, "amount": "34.50"},
            {"priceId": f"C1-{event_id}", "priceName": "CJP", "rankId": 1, "amount": "21.50"},
            {"priceId": f"R2-{event_id}", "priceName": "Regulier", "rankId": 2, "amount": 26},
        ],
        **fields,
    }


CATALOG: dict[str, Any] = {
    "timezone": TIMEZONE,
    "paymentMethods": [
        {"paymentMethodId": 1, "name": "iDEAL", "fee": "0.35", "provider": "test"},
        {"paymentMethodId": 2, "name": "Factuur", "fee": "2.50"},
        {"paymentMethodId": 3, "name": "PIN (kassa)", "fee": 0, "online": False},
    ],
    "ranks": [
        {"rankId": 1, "name": "Rang 1"},
        {"rankId": 2, "name": "Rang 2"},
        {"rankId": 3, "name": "Staanplaats"},
    ],
    "halls": [
        {
            "hallId": HALL,
            "hallName": "Grote Zaal",
            "hallAddress": "Schouwburgplein 12",
            "hallZip": "1012 WX",
            "hallCity": "Amsterdam",
            "hallPhone": "0201234567",
            "hallUrl": "https://schouwburcht.example.nl",
            "sections": [
                {
                    "sectionId": 1,
                    "sectionName": "Parket",
                    "rows": [
                        {"rowNr": 1, "seats": [{"seatNr": n, "rankId": 1} for n in range(1, 7)]},
                        {"rowNr": 2, "seats": [{"seatNr": n, "rankId": 2} for n in range(1, 5)]},
                    ],
                }
            ],
        },
        {"hallId": PARK, "hallName": "Wilgenpark", "hallCity": "Amsterdam"},
    ],
    "productions": [
        {
            "productionId": HAMLET,
            "productionName": "Hamlet",
            "text": "Shakespeares tragedie over de Deense prins.",
            "shortText": "Toneel in de Grote Zaal",
            "image": "https://schouwburcht.example.nl/img/hamlet.jpg",
            "eventTypes": ["toneel", "klassiek"],
            "events": [
                # The day summer time starts: 20:15 is +02:00.
                _event(
                    ON_SALE,
                    "2031-03-30T20:15:00",
                    "2031-03-30T22:45:00",
                    shortText="Première",
                    url="https://schouwburcht.example.nl/programma/101",
                    maxTicketsPerOrder=MAX_TICKETS,
                ),
                # The day summer time ends: 14:30 is +01:00.
                _event(
                    NOT_ON_SALE,
                    "2031-10-26T14:30:00",
                    "2031-10-26T17:00:00",
                    status="nosal",
                    eventTypes=["toneel", "familie"],
                    image="/media/posters/matinee.svg",
                ),
                _event(WITHDRAWN, "2031-11-01T20:15:00", "2031-11-01T22:45:00", status="trash"),
                _event(ENDED, "2020-01-10T20:00:00", "2020-01-10T22:00:00"),
                _event(
                    HIDDEN,
                    "2020-02-01T20:00:00",
                    "2020-02-01T22:00:00",
                    viewEnd="2020-02-02T12:00:00",
                ),
                _event(
                    VIEW_END,
                    "2031-12-30T20:00:00",
                    "2031-12-30T22:00:00",
                    viewEnd="2031-12-31T23:59:00+01:00",
                    text="Oudejaarsvoorstelling met een extra scène.",
                ),
            ],
        },
        {
            "productionId": PARKFEEST,
            "productionName": "Parkfeest",
            "events": [
                {
                    "eventId": OUTDOOR,
                    "eventName": "Parkfeest",
                    "eventType": "festival",
                    "start": "2031-06-21T21:00:00+02:00",
                    "end": "2031-06-22T01:00:00+02:00",
                    "hallId": PARK,
                    "seating": "unreserved",
                    "capacity": [{"rankId": 3, "places": PARK_PLACES}],
                    "prices": [
                        {"priceId": "PARK", "priceName": "Vrij", "rankId": 3, "amount": "15.00"}
                    ],
                }
            ],
        },
        {"productionId": EMPTY, "productionName": "Nog geen data", "events": []},
    ],
}


def _local(iso: str) -> int:
    """A catalog date-time as stored: one without an offset is local to TIMEZONE."""
    parsed = datetime.fromisoformat(iso)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(TIMEZONE))
    return instant_to_micros(parsed)


def _hamlet(b: Builder, event_id: int, start: str, end: str, **fields: Any) -> None:
    """One of the Hamlet events of CATALOG (`_event` above): the same rows."""
    b.event(
        event_id,
        production_id=HAMLET,
        name=f"Hamlet {event_id}",
        start_at=_local(start),
        end_at=_local(end),
        hall_id=HALL,
        seating="reserved",
        prices_=[
            (f"R1-{event_id}", "Regulier", 1, 3450),
            (f"C1-{event_id}", "CJP", 1, 2150),
            (f"R2-{event_id}", "Regulier", 2, 2600),
        ],
        **fields,
    )


def build_venue(engine: Engine, client: Client) -> None:
    """CATALOG's rows, made with the test data builder (the client's zone is TIMEZONE)."""
    assert str(client.tenant.timezone) == TIMEZONE
    with building(engine, client.tenant.id) as b:
        b.payment_method(1, "iDEAL", 35, provider="test")
        b.payment_method(2, "Factuur", 250)
        b.payment_method(3, "PIN (kassa)", 0, online=False)
        b.ranks((1, "Rang 1"), (2, "Rang 2"), (3, "Staanplaats"))
        b.hall(
            HALL,
            {(1, "Parket"): [(1, 6, 1), (2, 4, 2)]},
            name="Grote Zaal",
            address="Schouwburgplein 12",
            zip="1012 WX",
            city="Amsterdam",
            phone="0201234567",
            url="https://schouwburcht.example.nl",
        )
        b.hall(PARK, {}, name="Wilgenpark", city="Amsterdam")
        b.production(
            HAMLET,
            "Hamlet",
            text="Shakespeares tragedie over de Deense prins.",
            short_text="Toneel in de Grote Zaal",
            image="https://schouwburcht.example.nl/img/hamlet.jpg",
            event_types=["toneel", "klassiek"],
        )
        b.production(PARKFEEST, "Parkfeest")
        b.production(EMPTY, "Nog geen data")
        _hamlet(
            b,
            ON_SALE,
            "2031-03-30T20:15:00",
            "2031-03-30T22:45:00",
            short_text="Première",
            url="https://schouwburcht.example.nl/programma/101",
            max_tickets_per_order=MAX_TICKETS,
        )
        _hamlet(
            b,
            NOT_ON_SALE,
            "2031-10-26T14:30:00",
            "2031-10-26T17:00:00",
            status="nosal",
            event_types=["toneel", "familie"],
            image="/media/posters/matinee.svg",
        )
        _hamlet(b, WITHDRAWN, "2031-11-01T20:15:00", "2031-11-01T22:45:00", status="trash")
        _hamlet(b, ENDED, "2020-01-10T20:00:00", "2020-01-10T22:00:00")
        _hamlet(
            b,
            HIDDEN,
            "2020-02-01T20:00:00",
            "2020-02-01T22:00:00",
            view_end_at=_local("2020-02-02T12:00:00"),
        )
        _hamlet(
            b,
            VIEW_END,
            "2031-12-30T20:00:00",
            "2031-12-30T22:00:00",
            view_end_at=_local("2031-12-31T23:59:00+01:00"),
            text="Oudejaarsvoorstelling met een extra scène.",
        )
        b.event(
            OUTDOOR,
            production_id=PARKFEEST,
            name="Parkfeest",
            event_type="festival",
            start_at=_local("2031-06-21T21:00:00+02:00"),
            end_at=_local("2031-06-22T01:00:00+02:00"),
            hall_id=PARK,
            seating="unreserved",
            capacity={3: PARK_PLACES},
            prices_=[("PARK", "Vrij", 3, 1500)],
        )


@pytest.fixture
def venue(engine: Engine, client: Client) -> Client:
    """The test's client with the catalog above (built as rows, not loaded)."""
    build_venue(engine, client)
    return client


def public(client: Client) -> str:
    return f"/v1/{client.name}"


def get_json(http: TestClient, path: str) -> Any:
    response = http.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()
