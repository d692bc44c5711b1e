"""Exports of one client never show another client's rows, whatever they share."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.builders import Seat, at, building
from tests.conftest import Client
from tests.exports.conftest import ids, post_export, records

SAME_INSTANT = at("2026-04-22T13:08:55+02:00")


def fill(engine: Engine, client: Client) -> dict[str, list[int]]:
    """Rows of every dataset, all stamped at the same instant as the other client's."""
    with building(engine, client.tenant.id) as b:
        b.client_types("friend", "vip")
        people = [b.customer(changed_at=SAME_INSTANT, tags=["vip"]) for _ in range(3)]
        orders = [
            b.order(changed_at=SAME_INSTANT, customer_id=person, seats=[Seat()])
            for person in people
        ]
        entries = [b.waiting(customer_id=person, changed_at=SAME_INSTANT) for person in people]
    return {"customers": people, "orders": orders, "waitinglist": entries}


@pytest.mark.parametrize(
    ("dataset", "key"),
    [("customers", "customerId"), ("orders", "orderId"), ("waitinglist", "waitingId")],
)
def test_only_the_clients_own_rows(
    http: TestClient,
    engine: Engine,
    client: Client,
    other_client: Client,
    dataset: str,
    key: str,
) -> None:
    mine, theirs = fill(engine, client), fill(engine, other_client)
    for who, made in ((client, mine), (other_client, theirs)):
        assert ids(post_export(http, who, dataset), key) == made[dataset]
        paged = post_export(http, who, dataset, {"limit": 2, "changedSince": "2026-04-22"})
        assert ids(paged, key) == made[dataset][:2]
        rest = post_export(
            http,
            who,
            dataset,
            {"limit": 2, "changedSince": "2026-04-22", "cursor": paged.headers["x-next-cursor"]},
        )
        assert ids(rest, key) == made[dataset][2:]
    # The inline users of orders and entries are the client's own customers too.
    for record in records(post_export(http, client, "orders")):
        assert record["user"]["customerId"] in mine["customers"]


def test_client_types_are_the_clients_own(
    http: TestClient, engine: Engine, client: Client, other_client: Client
) -> None:
    with building(engine, client.tenant.id) as b:
        b.client_types("subscriber", "Donor", "friend", "éénmalig")
    with building(engine, other_client.tenant.id) as b:
        b.client_types("press")
    response = http.get(f"{client.base}/export/clienttypes", headers=client.auth)
    # Sorted by code point on every database, whatever its collation.
    assert response.json() == ["Donor", "friend", "subscriber", "éénmalig"]
    other = http.get(f"{other_client.base}/export/clienttypes", headers=other_client.auth)
    assert other.json() == ["press"]
