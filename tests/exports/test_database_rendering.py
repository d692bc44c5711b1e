"""The orders export rendered by the database is byte for byte the one Python renders."""

import dataclasses
import logging
import random
import threading
import types
import weakref
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from sqlalchemy import Engine

from boxoffice.server.db.transactions import close_snapshot, open_export_snapshot
from boxoffice.server.exports import exporters, repository
from boxoffice.server.exports.exporters import ORDERS, DatabaseRendering, Exporter
from boxoffice.server.exports.writers import JSON_ARRAY, NDJSON_LINES, Writer
from boxoffice.server.values.instants import instant_to_micros
from boxoffice.server.values.rendering import render_instant
from tests.builders import Seat, at, building
from tests.conftest import Client, new_client
from tests.exports.conftest import export_stream

STAMP = at("2026-03-29T00:30:00+00:00")
# Every character JSON escapes, quotes and backslashes, and some beyond ASCII.
AWKWARD = "".join(chr(i) for i in range(1, 0x20)) + '"\\/ é€😀\u2028\u2029\ufeff\x7f'
IN_PYTHON = dataclasses.replace(ORDERS, in_database=None)


def export(
    engine: Engine, client: Client, exporter: Exporter, writer: Writer = JSON_ARRAY
) -> bytes:
    return b"".join(export_stream(engine, client, 3, exporter, writer=writer))


def awkward_orders(engine: Engine, client: Client) -> None:
    """Orders with every nullable field both null and set, odd text, amounts of every sign."""
    with building(engine, client.tenant.id) as b:
        b.client_types("zeta", "Alpha", "élan", "beta", AWKWARD[:64])
        plain = b.customer(changed_at=STAMP)
        odd = b.customer(
            changed_at=STAMP + 1,
            tags=["zeta", "Alpha", "élan", "beta", AWKWARD[:64]],
            email=None,
            email_key=None,
            first_name=AWKWARD,
            last_name=None,
            salutation="m",
            preposition="van der",
            address=AWKWARD,
            house_nr="12a",
            zip="1011 AB",
            city="Zürich",
            country=None,
            phone="+31 20 123",
            credit_cents=-5,
            created_at=at("1969-12-31T23:59:59.999999+00:00"),
        )
        b.order(changed_at=STAMP)  # no customer, no seats
        b.order(
            changed_at=STAMP + 2,
            customer_id=odd,
            time_out_at=STAMP + 3_600_000_000,
            handling_text=AWKWARD,
            discount_name='10% "off"',
            fee_cents=-50,
            donation_cents=7,
            status="cancel",
            payment_status="refund",
            channel="sp",
            seats=[
                Seat(row_nr=3, seat_nr=14, price_name=AWKWARD, price_id='p"1'),
                Seat(amount_cents=0, deleted_at=STAMP + 1),
                Seat(amount_cents=123_456_789, row_nr=None, seat_nr=7),
                Seat(amount_cents=5, deleted_at=at("1900-06-01T12:00:00+00:00")),
            ],
        )
        for n in range(7):
            b.order(
                changed_at=STAMP + 10 + n,
                customer_id=plain if n % 2 else odd,
                order_date_at=at("2026-10-25T01:30:00+00:00") + n * 600_000_000,
                seats=[Seat(seat_nr=n), Seat(seat_nr=n + 1, deleted_at=STAMP + n)],
            )


@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "Asia/Kolkata", "America/St_Johns"])
@pytest.mark.parametrize("writer", [JSON_ARRAY, NDJSON_LINES], ids=["json", "ndjson"])
def test_the_database_renders_the_bytes_python_renders(
    engine: Engine, zone: str, writer: Writer
) -> None:
    client = new_client(engine, timezone=zone)
    awkward_orders(engine, client)
    by_database = export(engine, client, ORDERS, writer)
    assert by_database == export(engine, client, IN_PYTHON, writer)
    records = orjson.loads(by_database) if writer is JSON_ARRAY else None
    if records is not None:
        assert len(records) == 9
        odd = next(r for r in records if r["deletedSeats"] and r["user"])
        assert odd["user"]["clientTypes"] == sorted(["zeta", "Alpha", "élan", "beta", AWKWARD[:64]])
        assert odd["user"]["customerFirstName"] == AWKWARD


def test_postgresql_renders_instants_as_python_in_every_kind_of_zone(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's instants are rendered by Python itself")
    rng = random.Random(7)
    instants = [
        rng.randrange(-2_500_000_000, 4_200_000_000) * 1_000_000 + rng.randrange(10**6)
        for _ in range(3000)
    ]
    # Either side of every offset change of 1880-2040 in these zones, to the microsecond.
    instants += [
        instant_to_micros(datetime(year, month, 1, tzinfo=UTC)) + delta
        for year in range(1880, 2041, 7)
        for month in (3, 4, 10, 11)
        for delta in (-1, 0, 1, 3_599_999_999)
    ]
    zones = [
        "Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
        "Pacific/Chatham", "America/St_Johns", "Africa/Monrovia", "Asia/Kathmandu", "UTC",
        "Europe/Dublin", "America/Sao_Paulo",
    ]  # fmt: skip
    snapshot = open_export_snapshot(engine)
    try:
        for zone in zones:
            tz = ZoneInfo(zone)
            assert repository.use_zone(snapshot.conn, tz)
            python = [render_instant(m, tz) for m in instants]
            assert repository.render_instants(snapshot.conn, instants) == python, zone
    finally:
        close_snapshot(snapshot)


def test_a_zone_postgresql_does_not_know_is_rendered_by_python(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite renders every zone through Python")
    snapshot = open_export_snapshot(engine)
    try:
        unknown: Any = types.SimpleNamespace(key="Nowhere/Atlantis")
        assert not repository.use_zone(snapshot.conn, unknown)
        # The transaction goes on as if nothing happened.
        assert snapshot.conn.exec_driver_sql("SELECT 1").scalar_one() == 1
    finally:
        close_snapshot(snapshot)


def test_zone_rules_that_differ_from_pythons_send_the_export_to_python(
    engine: Engine,
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite renders every zone through Python")
    awkward_orders(engine, client)
    expected = export(engine, client, IN_PYTHON)

    def one_hour_off(conn: Any, micros: list[int]) -> list[str]:
        return [render_instant(m + 3_600_000_000, client.tenant.timezone) for m in micros]

    streamed: list[Any] = []

    def stream_order_json(*args: Any, **kwargs: Any) -> Any:
        streamed.append(args)
        return repository.stream_order_json(*args, **kwargs)

    assert ORDERS.in_database is not None
    spied = dataclasses.replace(
        ORDERS, in_database=dataclasses.replace(ORDERS.in_database, stream=stream_order_json)
    )
    assert export(engine, client, spied) == expected
    assert len(streamed) == 1  # the zone agrees: the database renders

    monkeypatch.setattr(exporters, "_zones_agreed", weakref.WeakKeyDictionary())
    monkeypatch.setattr(repository, "render_instants", one_hour_off)
    with caplog.at_level(logging.WARNING, logger="boxoffice"):
        assert export(engine, client, spied) == expected
    assert len(streamed) == 1  # it does not any more
    assert any("unlike Python" in r.getMessage() for r in caplog.records)


def read_ahead_threads() -> int:
    return sum(t.name == "export-read-ahead" for t in threading.enumerate())


def test_an_orders_stream_closed_midway_stops_reading_and_releases_its_snapshot(
    engine: Engine, client: Client
) -> None:
    awkward_orders(engine, client)
    in_use = engine.pool.checkedout()  # type: ignore[attr-defined]
    stream = export_stream(engine, client, 2, ORDERS)
    chunks = iter(stream)
    assert next(chunks).startswith(b'[{"orderId":')
    assert read_ahead_threads() == 1
    stream.close()
    assert read_ahead_threads() == 0
    assert engine.pool.checkedout() == in_use  # type: ignore[attr-defined]
    assert list(chunks) == []


def test_a_failure_while_reading_ahead_ends_the_stream_with_that_error(
    engine: Engine, client: Client
) -> None:
    awkward_orders(engine, client)
    in_use = engine.pool.checkedout()  # type: ignore[attr-defined]

    def related(context: Any, rows: Any) -> Any:
        raise RuntimeError("customers could not be read")

    broken = dataclasses.replace(
        ORDERS,
        in_database=DatabaseRendering(
            stream=repository.stream_order_json,
            related=related,
            records=lambda rows, users, end: [],
        ),
    )
    with pytest.raises(RuntimeError, match="customers could not be read"):
        export(engine, client, broken)
    assert read_ahead_threads() == 0
    assert engine.pool.checkedout() == in_use  # type: ignore[attr-defined]
