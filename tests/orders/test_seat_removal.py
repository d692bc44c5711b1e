"""DELETE /order/{id}/seat/{seatId}: deletedSeats, released place, recomputed amount."""

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.builders import RESERVED_EVENT, RESERVED_RANK, World, build_world, building, make_order
from tests.conftest import Client
from tests.customers.conftest import USER_KEYS
from tests.orders.conftest import EXPORT_KEYS, SEAT_KEYS, claims, order_row, state


def remove(http: TestClient, client: Client, order_id: int, seat_id: int) -> Any:
    return http.delete(f"{client.base}/order/{order_id}/seat/{seat_id}", headers=client.auth)


def test_removal_moves_the_seat_releases_its_place_and_recomputes_the_amount(
    http: TestClient, engine: Engine, world: World
) -> None:
    order = make_order(
        engine, world, reserved=(0, 1), unreserved=1, donation_cents=500, fee_cents=250
    )
    other = make_order(engine, world, reserved=(2,))
    before = state(engine, world)
    client = world.client

    response = http.delete(
        f"{client.base}/order/{order.id}/seat/{order.seat_ids[0]}", headers=client.auth
    )

    assert response.status_code == 200
    body = response.json()
    assert list(body) == EXPORT_KEYS
    assert '"amount":47.00,' in response.text  # 24.50 + 15.00 + 5.00 + 2.50
    assert '"fee":2.50,' in response.text and '"donation":5.00,' in response.text
    assert [s["seatId"] for s in body["seats"]] == order.seat_ids[1:]
    assert all(list(s) == SEAT_KEYS for s in body["seats"])
    [deleted] = body["deletedSeats"]
    assert list(deleted) == [*SEAT_KEYS, "deletedAt"]
    assert deleted["seatId"] == order.seat_ids[0]
    assert (deleted["eventId"], deleted["rankId"]) == (RESERVED_EVENT, RESERVED_RANK)
    assert (deleted["rowNr"], deleted["seatNr"]) == (1, 1)
    assert '"amount":24.50,"priceId":"P95std","priceName":"Standard","deletedAt"' in response.text
    assert datetime.fromisoformat(deleted["deletedAt"]).utcoffset() is not None
    assert list(body["user"]) == USER_KEYS
    assert body["user"]["customerId"] == world.customer_id
    assert body["lastChanged"] == deleted["deletedAt"]

    after = state(engine, world)
    assert order.seat_ids[0] not in [c["order_seat_id"] for c in after["place_claims"]]
    assert len(after["place_claims"]) == len(before["place_claims"]) - 1
    row = order_row(engine, order.id)
    old = next(r for r in before["orders"] if r["id"] == order.id)
    assert row["amount_cents"] == 4700
    assert row["last_changed_at"] > old["last_changed_at"]
    seat = next(s for s in after["order_seats"] if s["id"] == order.seat_ids[0])
    assert seat["deleted_at"] == row["last_changed_at"]
    # Nothing else moved: the other order, the other seats, the customer.
    assert [r for r in after["orders"] if r["id"] == other.id] == [
        r for r in before["orders"] if r["id"] == other.id
    ]
    assert [s for s in after["order_seats"] if s["id"] != order.seat_ids[0]] == [
        s for s in before["order_seats"] if s["id"] != order.seat_ids[0]
    ]
    assert after["customers"] == before["customers"]

    got = http.get(f"{client.base}/order/{order.id}", headers=client.auth)
    assert '"amount":47.00,' in got.text


def test_the_released_place_can_be_claimed_again(
    http: TestClient, engine: Engine, world: World
) -> None:
    order = make_order(engine, world, reserved=(0,))
    remove(http, world.client, order.id, order.seat_ids[0])
    with building(engine, world.tenant_id) as b:
        b.hold(
            event_id=RESERVED_EVENT,
            place_key=f"s{world.hall_seat_ids[0]}",
            rank_id=RESERVED_RANK,
            expires_at=1,
            cart_item_id=1,
        )
    assert len(claims(engine, world)) == 1


def test_an_anonymous_orders_user_is_null_and_the_last_seat_can_go(
    http: TestClient, engine: Engine, world: World
) -> None:
    order = make_order(engine, world, unreserved=1, anonymous=True, fee_cents=100)
    response = http.delete(
        f"{world.client.base}/order/{order.id}/seat/{order.seat_ids[0]}",
        headers=world.client.auth,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["user"] is None
    assert body["seats"] == []
    assert '"amount":1.00,' in response.text
    assert body["deletedSeats"][0]["rowNr"] is None
    assert claims(engine, world) == []


def test_a_seat_of_a_cancelled_order_can_be_removed(
    http: TestClient, engine: Engine, world: World
) -> None:
    order = make_order(engine, world, reserved=(0, 1), status="cancel")
    response = http.delete(
        f"{world.client.base}/order/{order.id}/seat/{order.seat_ids[1]}",
        headers=world.client.auth,
    )
    assert response.status_code == 200
    assert order_row(engine, order.id)["amount_cents"] == 2450


def test_removing_a_removed_seat_is_a_404_and_writes_nothing(
    http: TestClient, engine: Engine, world: World
) -> None:
    order = make_order(engine, world, reserved=(0, 1))
    client = world.client
    url = f"{client.base}/order/{order.id}/seat/{order.seat_ids[0]}"
    assert http.delete(url, headers=client.auth).status_code == 200
    before = state(engine, world)
    response = http.delete(url, headers=client.auth)
    assert response.status_code == 404
    assert response.json() == {"message": "Seat not found."}
    assert state(engine, world) == before


def test_unknown_seats_and_orders_are_404s_and_write_nothing(
    http: TestClient, engine: Engine, world: World, other_client: Client
) -> None:
    order = make_order(engine, world, reserved=(0,))
    another = make_order(engine, world, reserved=(1,))
    other_world = build_world(engine, other_client)
    theirs = make_order(engine, other_world, reserved=(0,))
    client = world.client
    before, before_theirs = state(engine, world), state(engine, other_world)
    cases = [
        (order.id, another.seat_ids[0], "Seat not found."),
        (order.id, 2_000_000_000, "Seat not found."),
        (order.id, theirs.seat_ids[0], "Seat not found."),
        (theirs.id, theirs.seat_ids[0], "Order not found."),
        (2_000_000_000, order.seat_ids[0], "Order not found."),
    ]
    for order_id, seat_id, message in cases:
        response = http.delete(
            f"{client.base}/order/{order_id}/seat/{seat_id}", headers=client.auth
        )
        assert response.status_code == 404
        assert response.json() == {"message": message}
    assert state(engine, world) == before
    assert state(engine, other_world) == before_theirs


@pytest.mark.parametrize(("order_id", "seat_id"), [("1", "x"), ("x", "1"), ("1", "0")])
def test_malformed_ids_are_a_422(
    http: TestClient, client: Client, order_id: str, seat_id: str
) -> None:
    response = http.delete(f"{client.base}/order/{order_id}/seat/{seat_id}", headers=client.auth)
    assert response.status_code == 422
