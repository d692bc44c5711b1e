"""GET /order/{id} and GET /order?changedSince=: shapes, scoping, bounds and order."""

from datetime import UTC, datetime
from typing import get_args
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from boxoffice.server.app import create_app
from boxoffice.server.config import Settings
from boxoffice.server.orders.schemas import OrderStatus, PaymentStatus
from boxoffice.server.orders.tables import ORDER_STATUSES, PAYMENT_STATUSES, orders
from boxoffice.server.values.clock import now_micros
from boxoffice.server.values.instants import instant_to_micros
from tests.builders import HOUR, World, build_world, building, make_order
from tests.conftest import Client
from tests.orders.conftest import ORDER_KEYS

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def micros(text: str) -> int:
    return instant_to_micros(datetime.fromisoformat(text))


def list_ids(http: TestClient, client: Client, changed_since: str | None = None) -> list[int]:
    params = {} if changed_since is None else {"changedSince": changed_since}
    response = http.get(client.base + "/order", params=params, headers=client.auth)
    assert response.status_code == 200, response.text
    return [o["orderId"] for o in response.json()]


def test_schema_enums_match_the_table_constraints() -> None:
    assert get_args(OrderStatus) == ORDER_STATUSES
    assert get_args(PaymentStatus) == PAYMENT_STATUSES


def test_get_order_renders_the_order_resource(
    http: TestClient, engine: Engine, world: World
) -> None:
    order = make_order(
        engine,
        world,
        reserved=(0, 1),
        unreserved=1,
        donation_cents=500,
        fee_cents=250,
        discount_name="Vriendenkorting",
    )
    client = world.client
    response = http.get(f"{client.base}/order/{order.id}", headers=client.auth)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ORDER_KEYS
    assert body["orderId"] == order.id
    assert body["customerId"] == world.customer_id
    assert body["orderStatus"] == "ord"
    assert body["orderPaymentStatus"] == "paid"
    assert body["timeOut"] is None
    assert body["handlingTextPayment"] == "iDEAL"
    assert body["discountName"] == "Vriendenkorting"
    assert '"amount":71.50,' in response.text  # 2 x 24.50 + 15.00 + 5.00 + 2.50
    assert '"orderDonation":5.00,' in response.text
    assert datetime.fromisoformat(body["lastChanged"]).utcoffset() is not None


def test_get_unknown_or_other_clients_order_is_a_404(
    http: TestClient, engine: Engine, world: World, other_client: Client
) -> None:
    theirs = make_order(engine, build_world(engine, other_client), reserved=(0,))
    client = world.client
    for order_id in (theirs.id, 2_000_000_000):
        response = http.get(f"{client.base}/order/{order_id}", headers=client.auth)
        assert response.status_code == 404
        assert response.json() == {"message": "Order not found."}


@pytest.mark.parametrize("bad_id", ["x", "0", "-1", "2147483648"])
def test_a_malformed_order_id_is_a_422(http: TestClient, client: Client, bad_id: str) -> None:
    response = http.get(f"{client.base}/order/{bad_id}", headers=client.auth)
    assert response.status_code == 422
    assert "orderId" in response.json()["errors"]


def test_list_is_in_last_changed_then_id_order_and_scoped_to_the_client(
    http: TestClient, engine: Engine, world: World, other_client: Client
) -> None:
    base = now_micros() - 10 * HOUR
    late = make_order(engine, world, reserved=(0,), last_changed_at=base + 3)
    tie_a = make_order(engine, world, reserved=(1,), last_changed_at=base + 1)
    early = make_order(engine, world, unreserved=1, last_changed_at=base)
    tie_b = make_order(engine, world, unreserved=1, last_changed_at=base + 1)
    make_order(engine, build_world(engine, other_client), reserved=(0,), last_changed_at=base)
    client = world.client
    assert list_ids(http, client) == [early.id, tie_a.id, tie_b.id, late.id]
    response = http.get(client.base + "/order", headers=client.auth)
    assert all(list(o) == ORDER_KEYS for o in response.json())
    assert response.headers["content-type"].startswith("application/json")


def test_changed_since_is_inclusive_to_the_microsecond(
    http: TestClient, engine: Engine, world: World
) -> None:
    bound = micros("2026-03-01T12:00:00.250000+00:00")
    before = make_order(engine, world, reserved=(0,), last_changed_at=bound - 1)
    at = make_order(engine, world, reserved=(1,), last_changed_at=bound)
    after = make_order(engine, world, reserved=(2,), last_changed_at=bound + 1)
    client = world.client
    assert list_ids(http, client, "2026-03-01T12:00:00.250000Z") == [at.id, after.id]
    assert list_ids(http, client, "2026-03-01T13:00:00.250+01:00") == [at.id, after.id]
    assert list_ids(http, client, "2026-03-01T12:00:00.249999Z") == [before.id, at.id, after.id]
    assert list_ids(http, client, "2026-03-01T12:00:00.250001Z") == [after.id]


def test_changed_since_dates_and_naive_times_are_in_the_clients_zone(
    http: TestClient, engine: Engine, world: World
) -> None:
    # Midnight of 2 March in Amsterdam (UTC+1 in winter) is 23:00 UTC on 1 March.
    midnight = instant_to_micros(datetime(2026, 3, 2, tzinfo=AMSTERDAM))
    assert midnight == instant_to_micros(datetime(2026, 3, 1, 23, tzinfo=UTC))
    on_first = make_order(engine, world, reserved=(0,), last_changed_at=midnight - 1)
    on_second = make_order(engine, world, reserved=(1,), last_changed_at=midnight)
    client = world.client
    assert list_ids(http, client, "2026-03-02") == [on_second.id]
    assert list_ids(http, client, "2026-03-02T00:00:00") == [on_second.id]
    assert list_ids(http, client, "2026-03-01T23:00:00Z") == [on_second.id]
    assert list_ids(http, client, "2026-03-01") == [on_first.id, on_second.id]
    assert list_ids(http, client, "") == [on_first.id, on_second.id]


@pytest.mark.parametrize(
    "bad",
    [
        "yesterday",
        "2026-13-01",
        "2026-02-30",
        "0001-01-01T00:00:00+14:00",
        "2026-03-01T25:00",
        "1700000000",
    ],
)
def test_a_bad_changed_since_is_a_422_naming_it(http: TestClient, client: Client, bad: str) -> None:
    response = http.get(client.base + "/order", params={"changedSince": bad}, headers=client.auth)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["changedSince"]


def test_the_list_stops_at_its_watermark(http: TestClient, engine: Engine, world: World) -> None:
    """Orders stamped after the snapshot's watermark wait for the next call."""
    past = make_order(engine, world, reserved=(0,), last_changed_at=now_micros() - HOUR)
    make_order(engine, world, reserved=(1,), last_changed_at=now_micros() + HOUR)
    client = world.client
    response = http.get(client.base + "/order", headers=client.auth)
    assert [o["orderId"] for o in response.json()] == [past.id]
    watermark = datetime.fromisoformat(response.headers["x-sync-watermark"])
    assert past.id not in list_ids(http, client, response.headers["x-sync-watermark"])
    assert instant_to_micros(watermark) > now_micros() - HOUR


def test_a_long_list_with_shared_stamps_is_complete_and_ordered(
    http: TestClient, engine: Engine, world: World, settings: Settings
) -> None:
    """More than one keyset batch, with many orders sharing one lastChanged."""
    count = settings.export_batch_size * 2 + 37
    base = now_micros() - HOUR
    with building(engine, world.tenant_id) as b:
        # Three stamps only, in turn: every page boundary falls inside a tie.
        b.many_orders(
            count,
            changed_at=base,
            last_changed=(base, base + 1, base + 2),
            payment_status="none",
            channel="sp",
        )
    with engine.begin() as conn:
        rows = conn.execute(
            select(orders.c.id, orders.c.last_changed_at).where(
                orders.c.tenant_id == world.tenant_id
            )
        ).all()
    expected = [order_id for order_id, _ in sorted(rows, key=lambda r: (r[1], r[0]))]
    assert len(expected) == count
    assert list_ids(http, world.client) == expected


def test_an_empty_list_is_an_empty_array(http: TestClient, client: Client) -> None:
    response = http.get(client.base + "/order", headers=client.auth)
    assert response.status_code == 200
    assert response.content == b"[]"


def test_without_extensions_there_is_no_watermark_header(
    engine: Engine, settings: Settings, world: World
) -> None:
    plain = create_app(settings.model_copy(update={"extensions": False}), engine=engine)
    make_order(engine, world, reserved=(0,), last_changed_at=now_micros() - HOUR)
    with TestClient(plain, base_url="http://127.0.0.1") as http:
        response = http.get(world.client.base + "/order", headers=world.client.auth)
    assert response.status_code == 200
    assert len(response.json()) == 1
    assert "x-sync-watermark" not in response.headers
