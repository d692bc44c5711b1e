"""X-Sync-Watermark: passing it back as changedSince misses nothing and repeats nothing."""

import re
import threading
import time
from datetime import datetime

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.values.clock import now_micros
from boxoffice.server.values.instants import instant_to_micros
from tests.builders import Builder, at, building
from tests.conftest import Client
from tests.exports.conftest import ids, post_export

WATERMARK = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$")


def watermark_of(response: httpx2.Response) -> int:
    value = response.headers["x-sync-watermark"]
    assert WATERMARK.match(value), value
    return instant_to_micros(datetime.fromisoformat(value))


def test_watermark_is_the_snapshot_time_in_the_clients_zone(
    http: TestClient, client: Client
) -> None:
    before = now_micros()
    for dataset in ("customers", "orders", "waitinglist"):
        response = post_export(http, client, dataset)
        assert before <= watermark_of(response) <= now_micros()
        assert response.headers["x-sync-watermark"].endswith(("+01:00", "+02:00"))
    # Client types are a vocabulary, not change-tracked records: no watermark there.
    response = http.get(f"{client.base}/export/clienttypes", headers=client.auth)
    assert "x-sync-watermark" not in response.headers


def test_a_change_after_the_export_comes_with_the_watermark_and_nothing_else(
    http: TestClient, engine: Engine, client: Client
) -> None:
    with building(engine, client.tenant.id) as b:
        old = b.customer(changed_at=at("2026-04-22T13:08:55+02:00"))
        person = b.customer(changed_at=at("2026-04-22T13:08:56+02:00"))
        b.order(changed_at=at("2026-04-22T13:08:57+02:00"), customer_id=person)
        b.waiting(customer_id=person, changed_at=at("2026-04-22T13:08:58+02:00"))
    first = {d: post_export(http, client, d) for d in ("customers", "orders", "waitinglist")}
    assert ids(first["customers"], "customerId") == [old, person]
    # A writer after the export: its stamp comes from the clock, after the watermark.
    with write_transaction(engine) as tx:
        b = Builder(tx.conn, client.tenant.id)
        new = b.customer(changed_at=tx.now)
        order = b.order(changed_at=tx.now, customer_id=new)
        entry = b.waiting(customer_id=new, changed_at=tx.now)
    expected = {"customers": [new], "orders": [order], "waitinglist": [entry]}
    key = {"customers": "customerId", "orders": "orderId", "waitinglist": "waitingId"}
    for dataset, response in first.items():
        again = post_export(
            http, client, dataset, {"changedSince": response.headers["x-sync-watermark"]}
        )
        assert ids(again, key[dataset]) == expected[dataset], dataset


def test_rows_stamped_at_or_after_the_watermark_wait_for_a_later_export(
    http: TestClient, engine: Engine, client: Client
) -> None:
    """A stamp at or after W may belong to a writer still in flight: it is left out."""
    with building(engine, client.tenant.id) as b:
        now = b.customer(changed_at=at("2026-01-01T00:00:00+01:00"))
        future = b.customer(changed_at=now_micros() + 3_600_000_000)
    response = post_export(http, client, "customers")
    assert ids(response, "customerId") == [now]
    assert future not in ids(response, "customerId")
    # The client keeps a watermark below the pending stamp, so it will get that row later.
    assert watermark_of(response) < now_micros() + 3_600_000_000


def test_an_export_waits_for_a_writer_in_flight(
    http: TestClient, engine: Engine, client: Client
) -> None:
    """A row stamped before the watermark is always in the response, even if its writer
    was still busy when the export began: the write barrier makes the export wait."""
    stamped = threading.Event()
    release = threading.Event()
    written: dict[str, int] = {}

    def writer() -> None:
        with write_transaction(engine) as tx:
            written["id"] = Builder(tx.conn, client.tenant.id).customer(changed_at=tx.now)
            written["at"] = tx.now
            stamped.set()
            release.wait(30)

    result: dict[str, httpx2.Response] = {}

    def exporter() -> None:
        result["response"] = post_export(http, client, "customers")

    writing = threading.Thread(target=writer)
    writing.start()
    assert stamped.wait(30)
    exporting = threading.Thread(target=exporter)
    exporting.start()
    time.sleep(0.2)  # lets the export reach the barrier; the assertions hold either way
    release.set()
    writing.join(30)
    exporting.join(30)
    response = result["response"]
    assert written["at"] < watermark_of(response)
    assert ids(response, "customerId") == [written["id"]]


def test_watermark_is_never_after_changed_until(
    http: TestClient, engine: Engine, client: Client
) -> None:
    response = post_export(http, client, "orders", {"changedUntil": "2026-05-01T12:00:00"})
    assert response.headers["x-sync-watermark"] == "2026-05-01T12:00:00.000000+02:00"
    later = post_export(http, client, "orders", {"changedUntil": "2999-01-01"})
    assert watermark_of(later) <= now_micros()
