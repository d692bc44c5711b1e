"""PUT /order/{id}: status, payment status and discount; places released and re-claimed."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from boxoffice.server.values.clock import now_micros
from tests.builders import (
    HOUR,
    RESERVED_EVENT,
    RESERVED_RANK,
    UNRESERVED_EVENT,
    UNRESERVED_RANK,
    World,
    add_block,
    add_hold,
    build_world,
    make_order,
)
from tests.conftest import Client
from tests.orders.conftest import ORDER_KEYS, claims, only_changed, order_row, state


def put(http: TestClient, world: World, order_id: int, body: Any) -> Any:
    client = world.client
    return http.put(f"{client.base}/order/{order_id}", json=body, headers=client.auth)


def test_payment_status_change_moves_that_orders_last_changed_only(
    http: TestClient, engine: Engine, world: World
) -> None:
    order = make_order(engine, world, reserved=(0,), payment_status="none")
    make_order(engine, world, reserved=(1,))
    before = state(engine, world)
    response = put(http, world, order.id, {"orderPaymentStatus": "paid"})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ORDER_KEYS
    assert body["orderPaymentStatus"] == "paid"
    changed = only_changed(before, state(engine, world), "orders", order.id)
    assert set(changed) == {"payment_status", "last_changed_at"}
    old = next(r for r in before["orders"] if r["id"] == order.id)
    assert changed["last_changed_at"] > old["last_changed_at"]


def test_discount_name_is_set_trimmed_and_cleared(
    http: TestClient, engine: Engine, world: World
) -> None:
    order = make_order(engine, world, reserved=(0,))
    assert put(http, world, order.id, {"discountName": " Vrienden "}).json()["discountName"] == (
        "Vrienden"
    )
    assert order_row(engine, order.id)["discount_name"] == "Vrienden"
    assert put(http, world, order.id, {"discountName": None}).json()["discountName"] is None
    assert put(http, world, order.id, {"discountName": "x"}).json()["discountName"] == "x"
    assert put(http, world, order.id, {"discountName": ""}).json()["discountName"] is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"orderStatus": "ord"},
        {"orderStatus": "ord", "orderPaymentStatus": "paid", "discountName": "Korting"},
        {"discountName": " Korting "},
    ],
    ids=repr,
)
def test_an_update_that_changes_nothing_writes_nothing(
    http: TestClient, engine: Engine, world: World, body: dict[str, Any]
) -> None:
    order = make_order(engine, world, reserved=(0,), discount_name="Korting")
    before = state(engine, world)
    response = put(http, world, order.id, body)
    assert response.status_code == 200
    assert response.json()["orderId"] == order.id
    assert state(engine, world) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"orderStatus": "shipped"}, "orderStatus"),
        ({"orderStatus": None}, "orderStatus"),
        ({"orderStatus": "ORD"}, "orderStatus"),
        ({"orderPaymentStatus": 1}, "orderPaymentStatus"),
        ({"orderPaymentStatus": None}, "orderPaymentStatus"),
        ({"discountName": "x" * 256}, "discountName"),
        ({"discountName": 5}, "discountName"),
        ({"orderStatus": "cancel", "amount": 1}, "amount"),
        ({"order_status": "cancel"}, "order_status"),
    ],
    ids=repr,
)
def test_invalid_updates_are_422_and_write_nothing(
    http: TestClient, engine: Engine, world: World, body: dict[str, Any], field: str
) -> None:
    order = make_order(engine, world, reserved=(0,))
    before = state(engine, world)
    response = put(http, world, order.id, body)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert state(engine, world) == before


def test_unknown_or_other_clients_order_is_a_404(
    http: TestClient, engine: Engine, world: World, other_client: Client
) -> None:
    other_world = build_world(engine, other_client)
    theirs = make_order(engine, other_world, reserved=(0,))
    before = state(engine, other_world)
    for order_id in (theirs.id, 2_000_000_000):
        response = put(http, world, order_id, {"orderStatus": "cancel"})
        assert response.status_code == 404
        assert response.json() == {"message": "Order not found."}
    assert state(engine, other_world) == before


@pytest.mark.parametrize("closed", ["cancel", "trash"])
def test_leaving_the_live_statuses_releases_the_places(
    http: TestClient, engine: Engine, world: World, closed: str
) -> None:
    order = make_order(engine, world, reserved=(0, 1), unreserved=2)
    kept = make_order(engine, world, reserved=(2,))
    kept_claims = [c for c in claims(engine, world) if c[2] in kept.seat_ids]
    stamp = order_row(engine, order.id)["last_changed_at"]
    response = put(http, world, order.id, {"orderStatus": closed})
    assert response.status_code == 200
    assert response.json()["orderStatus"] == closed
    assert claims(engine, world) == kept_claims
    assert order_row(engine, order.id)["last_changed_at"] > stamp


def test_moving_between_closed_statuses_or_between_live_ones_keeps_claims(
    http: TestClient, engine: Engine, world: World
) -> None:
    live = make_order(engine, world, reserved=(0,), status="res")
    closed = make_order(engine, world, reserved=(1,), status="cancel")
    before = claims(engine, world)
    assert put(http, world, live.id, {"orderStatus": "ord"}).status_code == 200
    assert put(http, world, closed.id, {"orderStatus": "trash"}).status_code == 200
    assert claims(engine, world) == before
    assert [c[2] for c in before] == live.seat_ids


@pytest.mark.parametrize("closed", ["cancel", "trash"])
def test_coming_back_to_a_live_status_reclaims_the_places(
    http: TestClient, engine: Engine, world: World, closed: str
) -> None:
    order = make_order(engine, world, reserved=(0, 3), unreserved=2)
    original = claims(engine, world)
    put(http, world, order.id, {"orderStatus": closed})
    assert claims(engine, world) == []
    stamp = order_row(engine, order.id)["last_changed_at"]
    response = put(http, world, order.id, {"orderStatus": "reissue"})
    assert response.status_code == 200
    assert response.json()["orderStatus"] == "reissue"
    assert claims(engine, world) == original
    assert order_row(engine, order.id)["last_changed_at"] > stamp


def test_reclaiming_picks_free_units_of_an_unreserved_event(
    http: TestClient, engine: Engine, world: World
) -> None:
    first = make_order(engine, world, unreserved=1)
    put(http, world, first.id, {"orderStatus": "cancel"})
    second = make_order(engine, world, unreserved=1)  # takes unit 1
    assert put(http, world, first.id, {"orderStatus": "ord"}).status_code == 200
    assert claims(engine, world) == [
        (UNRESERVED_EVENT, f"u{UNRESERVED_RANK}:1", second.seat_ids[0], None),
        (UNRESERVED_EVENT, f"u{UNRESERVED_RANK}:2", first.seat_ids[0], None),
    ]


def test_a_place_sold_meanwhile_is_a_409_and_nothing_is_written(
    http: TestClient, engine: Engine, world: World
) -> None:
    order = make_order(engine, world, reserved=(0, 1), unreserved=1)
    put(http, world, order.id, {"orderStatus": "cancel"})
    make_order(engine, world, reserved=(1,))
    before = state(engine, world)
    response = put(http, world, order.id, {"orderStatus": "ord", "orderPaymentStatus": "none"})
    assert response.status_code == 409
    assert str(order.seat_ids[1]) in response.json()["message"]
    assert list(response.json()) == ["message"]
    assert state(engine, world) == before


def test_unreserved_capacity_sold_meanwhile_is_a_409(
    http: TestClient, engine: Engine, world: World
) -> None:
    order = make_order(engine, world, unreserved=2)
    put(http, world, order.id, {"orderStatus": "trash"})
    make_order(engine, world, unreserved=2)  # 1 of 3 units left; the order needs 2
    before = state(engine, world)
    assert put(http, world, order.id, {"orderStatus": "ord"}).status_code == 409
    assert state(engine, world) == before


def test_an_active_hold_blocks_reclaiming_and_an_expired_one_does_not(
    http: TestClient, engine: Engine, world: World
) -> None:
    order = make_order(engine, world, reserved=(0,))
    put(http, world, order.id, {"orderStatus": "cancel"})
    place = f"s{world.hall_seat_ids[0]}"
    add_hold(
        engine,
        world,
        event_id=RESERVED_EVENT,
        place_key=place,
        rank_id=RESERVED_RANK,
        expires_at=now_micros() + HOUR,
    )
    before = state(engine, world)
    assert put(http, world, order.id, {"orderStatus": "ord"}).status_code == 409
    assert state(engine, world) == before

    other = make_order(engine, world, reserved=(1,))
    put(http, world, other.id, {"orderStatus": "cancel"})
    add_hold(
        engine,
        world,
        event_id=RESERVED_EVENT,
        place_key=f"s{world.hall_seat_ids[1]}",
        rank_id=RESERVED_RANK,
        expires_at=now_micros() - 1,
    )
    assert put(http, world, other.id, {"orderStatus": "ord"}).status_code == 200
    assert claims(engine, world) == sorted(
        [
            (RESERVED_EVENT, place, None, 999_999),
            (RESERVED_EVENT, f"s{world.hall_seat_ids[1]}", other.seat_ids[0], None),
        ]
    )


def test_expired_holds_on_unreserved_units_are_cleared_first(
    http: TestClient, engine: Engine, world: World
) -> None:
    order = make_order(engine, world, unreserved=3)
    put(http, world, order.id, {"orderStatus": "cancel"})
    for unit in (1, 2, 3):
        add_hold(
            engine,
            world,
            event_id=UNRESERVED_EVENT,
            place_key=f"u{UNRESERVED_RANK}:{unit}",
            rank_id=UNRESERVED_RANK,
            expires_at=now_micros() - 1,
        )
    assert put(http, world, order.id, {"orderStatus": "ord"}).status_code == 200
    assert [c[2] for c in claims(engine, world)] == order.seat_ids


def test_a_place_blocked_meanwhile_is_a_409(http: TestClient, engine: Engine, world: World) -> None:
    order = make_order(engine, world, reserved=(2,))
    put(http, world, order.id, {"orderStatus": "cancel"})
    add_block(engine, world, hall_seat_index=2)
    assert put(http, world, order.id, {"orderStatus": "ord"}).status_code == 409
    assert claims(engine, world) == []
    assert order_row(engine, order.id)["status"] == "cancel"


def test_removed_seats_are_not_reclaimed(http: TestClient, engine: Engine, world: World) -> None:
    order = make_order(engine, world, reserved=(0, 1))
    client = world.client
    removed = http.delete(
        f"{client.base}/order/{order.id}/seat/{order.seat_ids[0]}", headers=client.auth
    )
    assert removed.status_code == 200
    put(http, world, order.id, {"orderStatus": "cancel"})
    make_order(engine, world, reserved=(0,))  # someone buys the removed seat's place
    assert put(http, world, order.id, {"orderStatus": "ord"}).status_code == 200
    assert order.seat_ids[1] in [c[2] for c in claims(engine, world)]
    assert order.seat_ids[0] not in [c[2] for c in claims(engine, world)]


def test_a_status_change_does_not_move_the_customers_last_changed(
    http: TestClient, engine: Engine, world: World
) -> None:
    order = make_order(engine, world, reserved=(0,))
    before = state(engine, world)
    put(http, world, order.id, {"orderStatus": "cancel"})
    after = state(engine, world)
    assert after["customers"] == before["customers"]
    assert after["order_seats"] == before["order_seats"]
