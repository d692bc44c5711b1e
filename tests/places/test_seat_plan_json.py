"""`GET /seating/{eventId}` writes its JSON from pieces made once per cached hall
(places/resources.py, `seat_plan_json`): byte for byte the seat-by-seat rendering
(`seat_plan_resource`) of the same places, whatever is sold, held or blocked."""

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from boxoffice.server.catalog import repository
from boxoffice.server.db.transactions import read_transaction
from boxoffice.server.places.resources import seat_plan_json, seat_plan_resource
from boxoffice.server.places.service import SeatPlanView, event_places
from boxoffice.server.values.clock import now_micros
from tests.builders import ENDED, OTHER_PRODUCTION_EVENT, RESERVED, UNRESERVED, build_catalog
from tests.conftest import Client

EVENTS = (RESERVED, UNRESERVED, ENDED, OTHER_PRODUCTION_EVENT)


def both_renderings(engine: Engine, client: Client, event_id: int) -> tuple[bytes, bytes]:
    with read_transaction(engine) as conn:
        event = repository.get_event(conn, tenant_id=client.tenant.id, event_id=event_id)
        assert event is not None
        places = event_places(conn, tenant_id=client.tenant.id, event=event, now=now_micros())
    view = SeatPlanView(places=places, sections=places.sections)
    return seat_plan_json(view), orjson.dumps(seat_plan_resource(view))


def test_the_seat_plan_json_is_the_seat_by_seat_rendering(
    http: TestClient, engine: Engine, client: Client
) -> None:
    build_catalog(engine, client)
    lines = [
        [{"priceId": "STD", "rankId": 1, "numberOfTickets": 3}],
        [{"priceId": "R2", "rankId": 2, "numberOfTickets": 2}],
        [{"priceId": "FREE", "rankId": 2, "numberOfTickets": 4}],
    ]
    for step in range(len(lines) + 1):
        for event_id in EVENTS:
            fast, seat_by_seat = both_renderings(engine, client, event_id)
            assert fast == seat_by_seat
            served = http.get(f"{client.base}/seating/{event_id}", headers=client.auth)
            assert served.status_code == 200, served.text
            assert served.content == seat_by_seat
            assert served.headers["content-type"] == "application/json"
        if step < len(lines):
            cart = http.post(f"{client.base}/cart", headers=client.auth).json()["cartId"]
            held = http.post(f"{client.base}/cart/{cart}", json=lines[step], headers=client.auth)
            assert held.status_code == 200, held.text
            if step % 2 == 0:
                sold = http.post(
                    f"{client.base}/cart/{cart}/checkout",
                    json={"paymentMethodId": 1, "paid": True},
                    headers=client.auth,
                )
                assert sold.status_code == 201, sold.text
    plan = orjson.loads(both_renderings(engine, client, RESERVED)[0])
    states = [seat["available"] for s in plan["sections"] for r in s["rows"] for seat in r["seats"]]
    assert True in states and False in states
