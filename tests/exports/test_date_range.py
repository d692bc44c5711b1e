"""Date bounds: every date the types hold is accepted ("since 1800", "until 9999-12-31" are
common "everything" bounds); only an instant outside the years 1 to 9999 is refused, by name."""

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.builders import Seat, at, building
from tests.conftest import Client
from tests.exports.conftest import ids, post_export

EVERYTHING_SINCE = ["1800-01-01", "1000-06-15T12:00:00Z", "0001-01-01T00:00:00Z", "0001-01-02"]
NOTHING_SINCE = ["9999-12-31", "9999-12-31T23:59:59.999999+01:00", "9000-01-01"]
# Outside the years 1 to 9999 in UTC or in the client's zone (Europe/Amsterdam).
OVERFLOWING = ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00", "0001-01-01"]


@pytest.fixture
def stored(engine: Engine, client: Client) -> dict[str, int]:
    t = at("2026-04-22T13:08:55+02:00")
    with building(engine, client.tenant.id) as b:
        customer = b.customer(changed_at=t)
        order = b.order(changed_at=t, customer_id=customer, seats=[Seat(amount_cents=2450)])
        waiting = b.waiting(customer_id=customer, changed_at=t)
    return {"customers": customer, "orders": order, "waitinglist": waiting}


KEYS = {"customers": "customerId", "orders": "orderId", "waitinglist": "waitingId"}


@pytest.mark.parametrize("dataset", list(KEYS))
def test_far_bounds_are_accepted_and_the_exports_run(
    http: TestClient, client: Client, stored: dict[str, int], dataset: str
) -> None:
    key, wanted = KEYS[dataset], [stored[dataset]]
    for value in EVERYTHING_SINCE:
        assert ids(post_export(http, client, dataset, {"changedSince": value}), key) == wanted
        both = {"changedSince": value, "changedUntil": "9999-12-31"}
        assert ids(post_export(http, client, dataset, both), key) == wanted
    for value in NOTHING_SINCE:
        response = post_export(http, client, dataset, {"changedSince": value})
        assert ids(response, key) == []
        assert response.headers["x-sync-watermark"]
    until_old = {"changedSince": "0001-01-02", "changedUntil": "1800-01-01"}
    response = post_export(http, client, dataset, until_old)
    assert ids(response, key) == []
    assert response.headers["x-sync-watermark"].startswith("1800-01-01T00:00:00")


def test_paging_with_far_bounds_continues_with_its_cursor(
    http: TestClient, engine: Engine, client: Client
) -> None:
    with building(engine, client.tenant.id) as b:
        made = [b.customer(changed_at=at(f"2026-04-2{d}T10:00:00+00:00")) for d in range(3)]
    body: dict[str, object] = {
        "changedSince": "0001-01-02",
        "changedUntil": "9999-12-31",
        "limit": 2,
    }
    first = post_export(http, client, "customers", body)
    cursor = first.headers["x-next-cursor"]
    second = post_export(http, client, "customers", {**body, "cursor": cursor})
    assert ids(first, "customerId") + ids(second, "customerId") == made


@pytest.mark.parametrize("dataset", list(KEYS))
@pytest.mark.parametrize("field", ["changedSince", "changedUntil"])
def test_only_overflowing_instants_are_refused_naming_the_field(
    http: TestClient, client: Client, dataset: str, field: str
) -> None:
    for value in OVERFLOWING:
        response = post_export(http, client, dataset, {field: value})
        assert response.status_code == 422, (value, response.text)
        errors = orjson.loads(response.content)["errors"]
        assert list(errors) == [field]
        assert "out of range" in errors[field][0] and field in errors[field][0]


def test_the_order_list_and_the_event_list_take_far_bounds(
    http: TestClient, client: Client, stored: dict[str, int]
) -> None:
    listed = http.get(
        f"{client.base}/order", params={"changedSince": "1800-01-01"}, headers=client.auth
    )
    assert listed.status_code == 200, listed.text
    assert [o["orderId"] for o in listed.json()] == [stored["orders"]]
    none = http.get(
        f"{client.base}/order", params={"changedSince": "9999-12-31"}, headers=client.auth
    )
    assert none.status_code == 200 and none.json() == []
    events = http.get(
        f"{client.base}/event",
        params={"startDate": "0001-01-02", "endDate": "9999-12-31"},
        headers=client.auth,
    )
    assert events.status_code == 200, events.text
    for params in ({"startDate": "0001-01-01"}, {"endDate": "9999-12-31T23:59:59-05:00"}):
        refused = http.get(f"{client.base}/event", params=params, headers=client.auth)
        assert refused.status_code == 422, refused.text
        assert list(refused.json()["errors"]) == list(params)
