"""The race that incremental exports usually lose, forced deterministically.

A writer stamps a change (reads the clock for `lastChanged`) and then waits before it
commits, while a reader exports. Whatever the interleaving, the next incremental export
(from the watermark, or from the largest `lastChanged` seen) must contain the change.
"""

import threading
from datetime import datetime
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from boxoffice.server.customers.tables import customers
from boxoffice.server.db.changes import advanced
from boxoffice.server.db.transactions import write_transaction
from tests.conftest import Client

WAIT = 30.0  # an upper bound for the handshakes below, never a measured duration


def export(http: TestClient, client: Client, dataset: str, since: str | None) -> httpx.Response:
    body = {} if since is None else {"changedSince": since}
    response = http.post(f"{client.base}/export/{dataset}", headers=client.auth, json=body)
    assert response.status_code == 200, response.text
    return response


def largest_last_changed(records: list[dict[str, Any]]) -> str:
    return max(records, key=lambda r: datetime.fromisoformat(r["lastChanged"]))["lastChanged"]


def test_a_change_committed_after_the_snapshot_is_in_the_next_sync(
    http: TestClient, engine: Engine, client: Client
) -> None:
    created = http.post(
        f"{client.base}/customer",
        headers=client.auth,
        json={"email": "race@example.nl", "customerLastName": "Before"},
    )
    assert created.status_code == 201, created.text
    customer_id = created.json()["customerId"]
    first = export(http, client, "customers", None)
    watermark = first.headers["x-sync-watermark"]
    reference_bound = largest_last_changed(first.json())

    stamped, release, done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_writer() -> None:
        try:
            with write_transaction(engine) as tx:
                tx.conn.execute(
                    update(customers)
                    .where(customers.c.id == customer_id)
                    .values(
                        last_name="After",
                        last_changed_at=advanced(customers.c.last_changed_at, tx.now),
                    )
                )
                stamped.set()
                # Stamped, not committed: hold the transaction open while the reader runs.
                release.wait(WAIT)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            done.set()

    exports: list[httpx.Response] = []

    def reader() -> None:
        try:
            exports.append(export(http, client, "customers", watermark))
        except BaseException as exc:
            errors.append(exc)

    writer_thread = threading.Thread(target=slow_writer)
    writer_thread.start()
    assert stamped.wait(WAIT)
    reader_thread = threading.Thread(target=reader)
    reader_thread.start()
    # Let the reader get as far as it can while the writer is uncommitted; the outcome
    # must not depend on how far that is.
    reader_thread.join(0.5)
    release.set()
    writer_thread.join(WAIT)
    reader_thread.join(WAIT)
    assert not errors, errors
    assert done.is_set() and len(exports) == 1

    during = exports[0]
    seen = {r["customerId"]: r for r in during.json()}
    # The next sync, from the watermark of the export that raced the writer ...
    after = export(http, client, "customers", during.headers["x-sync-watermark"])
    seen.update({r["customerId"]: r for r in after.json()})
    assert seen[customer_id]["customerLastName"] == "After"

    # ... and in the reference pattern, from the largest lastChanged seen (inclusive).
    received = first.json() + during.json()
    bound = largest_last_changed(received) if received else reference_bound
    reference = {r["customerId"]: r for r in during.json()}
    reference.update({r["customerId"]: r for r in export(http, client, "customers", bound).json()})
    assert reference[customer_id]["customerLastName"] == "After"


def test_every_record_of_a_response_is_older_than_its_watermark(
    http: TestClient, engine: Engine, client: Client
) -> None:
    for n in range(5):
        response = http.post(
            f"{client.base}/customer",
            headers=client.auth,
            json={"email": f"w{n}@example.nl", "customerLastName": f"W{n}"},
        )
        assert response.status_code == 201
    response = export(http, client, "customers", None)
    watermark = datetime.fromisoformat(response.headers["x-sync-watermark"])
    assert len(response.json()) == 5
    for record in response.json():
        assert datetime.fromisoformat(record["lastChanged"]) <= watermark
