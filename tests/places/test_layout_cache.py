"""The cached layouts (places/layouts.py) give way to every catalog load that changes
something: the request after a load answers from the new catalog, byte for byte what a
server with nothing cached answers, and a hold picks from the new hall."""

import copy
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from boxoffice.server.catalog.loading import load_catalog
from boxoffice.server.db.transactions import read_transaction, write_transaction
from boxoffice.server.places import layouts
from boxoffice.server.tenancy.service import get_tenant
from boxoffice.server.tenancy.tables import clients
from tests.conftest import Client

RESERVED, UNRESERVED = 11, 12


def seats(count: int, rank_id: int) -> list[dict[str, int]]:
    return [{"seatNr": n, "rankId": rank_id} for n in range(1, count + 1)]


def catalog_file() -> dict[str, Any]:
    """A hall of two sections (rank 1 in front, rank 2 behind), a reserved event in it with
    a price per rank, and an unreserved event of 5 places."""
    return {
        "paymentMethods": [{"paymentMethodId": 1, "name": "Kassa", "fee": 0}],
        "ranks": [{"rankId": 1, "name": "Voor"}, {"rankId": 2, "name": "Achter"}],
        "halls": [
            {
                "hallId": 1,
                "hallName": "Zaal",
                "sections": [
                    {
                        "sectionId": 1,
                        "sectionName": "Parket",
                        "rows": [{"rowNr": 1, "seats": seats(4, 1)}],
                    },
                    {
                        "sectionId": 2,
                        "sectionName": "Balkon",
                        "rows": [{"rowNr": 2, "seats": seats(3, 2)}],
                    },
                ],
            }
        ],
        "productions": [
            {
                "productionId": 10,
                "productionName": "Stuk",
                "events": [
                    {
                        "eventId": RESERVED,
                        "eventName": "Zaal",
                        "start": "2040-05-01T20:00:00+02:00",
                        "end": "2040-05-01T22:00:00+02:00",
                        "hallId": 1,
                        "seating": "reserved",
                        "prices": [
                            {"priceId": "voor", "priceName": "V", "rankId": 1, "amount": "30.00"},
                            {"priceId": "achter", "priceName": "A", "rankId": 2, "amount": "20.00"},
                        ],
                    },
                    {
                        "eventId": UNRESERVED,
                        "eventName": "Veld",
                        "start": "2040-05-02T20:00:00+02:00",
                        "end": "2040-05-02T22:00:00+02:00",
                        "hallId": 1,
                        "seating": "unreserved",
                        "capacity": [{"rankId": 2, "places": 5}],
                        "prices": [
                            {"priceId": "veld", "priceName": "Veld", "rankId": 2, "amount": "15.00"}
                        ],
                    },
                ],
            }
        ],
    }


def load(engine: Engine, client: Client, data: dict[str, Any]) -> None:
    with write_transaction(engine) as tx:
        load_catalog(tx, tenant=get_tenant(tx.conn, client.name), data=copy.deepcopy(data))


def catalog_version(engine: Engine, client: Client) -> int:
    with read_transaction(engine) as conn:
        stmt = select(clients.c.catalog_version).where(clients.c.id == client.tenant.id)
        return int(conn.execute(stmt).scalar_one())


def reads(http: TestClient, client: Client) -> dict[str, bytes]:
    """The bodies of the reads that use the cached layouts."""
    found: dict[str, bytes] = {}
    for path in (f"/event/{RESERVED}", f"/event/{UNRESERVED}", f"/seating/{RESERVED}"):
        response = http.get(client.base + path, headers=client.auth)
        assert response.status_code == 200, response.text
        found[path] = response.content
    return found


def uncached_reads(http: TestClient, engine: Engine, client: Client) -> dict[str, bytes]:
    """What a server with nothing cached answers."""
    layouts.forget(engine)
    return reads(http, client)


def hold_best(http: TestClient, client: Client, price_id: str, rank_id: int) -> list[Any]:
    cart = http.post(f"{client.base}/cart", headers=client.auth).json()["cartId"]
    line = {"priceId": price_id, "rankId": rank_id, "numberOfTickets": 2}
    held = http.post(f"{client.base}/cart/{cart}", json=[line], headers=client.auth)
    assert held.status_code == 200, held.text
    return [(i["rowNr"], i["seatNr"], i["description"]) for i in held.json()["cartItems"]]


def test_a_catalog_load_between_two_requests_takes_effect_on_the_second(
    http: TestClient, engine: Engine, client: Client
) -> None:
    data = catalog_file()
    load(engine, client, data)
    first = reads(http, client)
    assert reads(http, client) == first  # from the cache now
    assert uncached_reads(http, engine, client) == first

    # The hall changes: a seat more in front, the balcony renamed and two of its seats of
    # rank 1 now; the front price changes, a seat is blocked, the unreserved capacity grows.
    changed = copy.deepcopy(data)
    hall = changed["halls"][0]
    hall["sections"][0]["rows"][0]["seats"] = seats(5, 1)
    hall["sections"][1]["sectionName"] = "Balkon (nieuw)"
    hall["sections"][1]["rows"][0]["seats"] = [*seats(2, 1), {"seatNr": 3, "rankId": 2}]
    reserved, unreserved = changed["productions"][0]["events"]
    reserved["prices"][0]["amount"] = "35.00"
    reserved["blocks"] = [
        {"blockType": "tech", "seats": [{"sectionId": 1, "rowNr": 1, "seatNr": 3}]}
    ]
    unreserved["capacity"] = [{"rankId": 2, "places": 9}]
    before = catalog_version(engine, client)
    load(engine, client, changed)
    assert catalog_version(engine, client) == before + 1

    after = reads(http, client)
    assert after != first
    assert after == uncached_reads(http, engine, client)
    seating = http.get(f"{client.base}/seating/{RESERVED}", headers=client.auth).json()
    assert [s["sectionName"] for s in seating["sections"]] == ["Parket", "Balkon (nieuw)"]
    assert [len(r["seats"]) for s in seating["sections"] for r in s["rows"]] == [5, 3]
    assert [seat["rankId"] for seat in seating["sections"][1]["rows"][0]["seats"]] == [1, 1, 2]
    event = http.get(f"{client.base}/event/{RESERVED}", headers=client.auth).json()
    assert event["prices"][0]["amount"] == 35.0
    assert {a["rankId"]: a["available"] for a in event["availability"]} == {1: 6, 2: 1}
    assert event["blockAvailability"] == [
        {"blockType": "tech", "blockName": "Techniek", "count": 1}
    ]
    free = http.get(f"{client.base}/event/{UNRESERVED}", headers=client.auth).json()
    assert free["availability"] == [{"rankId": 2, "available": 9}]

    # Picking uses the new hall: of the five front seats, seat 3 is blocked; the pairs
    # either side are as near the middle, the lower one first.
    assert [place[:2] for place in hold_best(http, client, "voor", 1)] == [(1, 1), (1, 2)]
    assert [place[:2] for place in hold_best(http, client, "voor", 1)] == [(1, 4), (1, 5)]
    # The balcony's seats now of rank 1, under the section's new name.
    balcony = hold_best(http, client, "voor", 1)
    assert [place[:2] for place in balcony] == [(2, 1), (2, 2)]
    assert all("Balkon (nieuw) row 2 seat" in description for *_, description in balcony)


def test_reloading_the_same_file_keeps_the_version_and_the_cache(
    http: TestClient, engine: Engine, client: Client
) -> None:
    data = catalog_file()
    load(engine, client, data)
    version = catalog_version(engine, client)
    first = reads(http, client)
    load(engine, client, data)
    assert catalog_version(engine, client) == version
    assert reads(http, client) == first


def test_every_client_has_its_own_layouts(
    http: TestClient, engine: Engine, client: Client, other_client: Client
) -> None:
    """Two clients with the same ids and the same version: never each other's layout."""
    data = catalog_file()
    load(engine, client, data)
    other = copy.deepcopy(data)
    other["halls"][0]["sections"][0]["rows"][0]["seats"] = seats(2, 1)
    load(engine, other_client, other)
    assert catalog_version(engine, client) == catalog_version(engine, other_client)
    mine, theirs = reads(http, client), reads(http, other_client)
    assert mine != theirs
    assert mine == uncached_reads(http, engine, client)
    assert theirs == uncached_reads(http, engine, other_client)


def test_the_cache_keeps_the_newest_version_and_drops_the_least_recently_used() -> None:
    cache = layouts._Cache(2)
    cache.put(("a",), 1, "a1")
    cache.put(("b",), 1, "b1")
    assert cache.get(("a",), 1) == "a1"  # a is now the most recently used
    assert cache.get(("a",), 2) is None  # another version: not this entry
    cache.put(("c",), 1, "c1")  # over the bound: b goes
    assert cache.get(("b",), 1) is None
    assert (cache.get(("a",), 1), cache.get(("c",), 1)) == ("a1", "c1")
    cache.put(("a",), 3, "a3")
    cache.put(("a",), 2, "a2")  # read at an older version during a load: not kept
    assert (cache.get(("a",), 3), cache.get(("a",), 2)) == ("a3", None)
