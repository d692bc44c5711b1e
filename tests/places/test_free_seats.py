"""The database's count of free seats agrees with the one computation of availability."""

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from boxoffice.server.catalog import repository
from boxoffice.server.db.transactions import read_transaction, write_transaction
from boxoffice.server.places.service import count_available, event_places
from boxoffice.server.places.tables import place_claims
from boxoffice.server.values.clock import now_micros
from tests.builders import ENDED, OTHER_PRODUCTION_EVENT, RESERVED, UNRESERVED, build_catalog
from tests.conftest import Client


def both_counts(engine: Engine, client: Client, now: int) -> dict[int, tuple[int, int]]:
    found = {}
    with read_transaction(engine) as conn:
        for event_id in (RESERVED, UNRESERVED, ENDED, OTHER_PRODUCTION_EVENT):
            event = repository.get_event(conn, tenant_id=client.tenant.id, event_id=event_id)
            assert event is not None
            places = event_places(conn, tenant_id=client.tenant.id, event=event, now=now)
            counted = count_available(conn, tenant_id=client.tenant.id, event=event, now=now)
            found[event_id] = (places.total_available(), counted)
    return found


def test_free_seats_counted_by_the_database_match_the_computation(
    http: TestClient, engine: Engine, client: Client
) -> None:
    build_catalog(engine, client)

    def agree() -> dict[int, int]:
        counts = both_counts(engine, client, now_micros())
        assert all(computed == counted for computed, counted in counts.values()), counts
        return {event_id: counted for event_id, (counted, _) in counts.items()}

    before = agree()
    assert before[RESERVED] > 0
    cart = http.post(f"{client.base}/cart", headers=client.auth).json()["cartId"]
    held = http.post(
        f"{client.base}/cart/{cart}",
        json=[
            {"priceId": "STD", "rankId": 1, "numberOfTickets": 2},
            {"priceId": "FREE", "rankId": 2, "numberOfTickets": 3},
        ],
        headers=client.auth,
    )
    assert held.status_code == 200, held.text
    sold = http.post(
        f"{client.base}/cart/{cart}/checkout",
        json={"customerId": None, "paymentMethodId": 1},
        headers=client.auth,
    )
    assert sold.status_code == 201, sold.text
    after_sale = agree()
    assert after_sale[RESERVED] == before[RESERVED] - 2
    # A live hold counts; an expired one does not, in both.
    cart = http.post(f"{client.base}/cart", headers=client.auth).json()["cartId"]
    http.post(
        f"{client.base}/cart/{cart}",
        json=[{"priceId": "STD", "rankId": 1, "numberOfTickets": 1}],
        headers=client.auth,
    )
    assert agree()[RESERVED] == before[RESERVED] - 3
    with write_transaction(engine) as tx:
        tx.conn.execute(
            update(place_claims)
            .where(
                place_claims.c.tenant_id == client.tenant.id,
                place_claims.c.expires_at.is_not(None),
            )
            .values(expires_at=1)
        )
    assert agree()[RESERVED] == before[RESERVED] - 2
