"""A full sync into every target equals the server's export; 100 changes later, an
incremental sync transfers only those (and counted boundary repeats) and equals it again."""

from collections import Counter

import pytest
from sqlalchemy import Engine

from tests.builders.datasets import Dataset, change_records
from tests.client.conftest import TARGETS, sync_once
from tests.client.copies import assert_copy_equals_export
from tests.conftest import Client


@pytest.mark.parametrize("kind", TARGETS)
def test_full_then_incremental_sync_equals_the_export(
    kind: str,
    extensions: bool,
    server_url: str,
    engine: Engine,
    client: Client,
    dataset: Dataset,
    make_target,
) -> None:
    target = make_target(kind)

    first = sync_once(server_url, client, target, page_size=7)

    assert first.error is None
    copy = assert_copy_equals_export(target, server_url, client.name, client.key)
    sizes = {"customers": 50, "orders": 90, "waitinglist": 30}
    for stream, size in sizes.items():
        report = first.streams[stream]
        assert (report.records, report.duplicates, report.rows) == (size, 0, size)
        # With the extensions, 7 records a page; the reference answers all in one.
        assert report.pages == (-(-size // 7) if extensions else 1)
        assert report.mode == ("extensions" if extensions else "reference")
    assert first.streams["clienttypes"].records == 6
    states = {row["stream"]: row for row in copy["sync_state"]}
    assert all(states[s]["last_run_status"] == "ok" for s in sizes)
    assert all(states[s]["cursor"] is None for s in sizes)

    # Without a watermark the next run starts at the largest lastChanged (whole seconds,
    # inclusive): the unchanged records of that second come again, and only those.
    tables = {"customers": "customers", "orders": "orders", "waitinglist": "waiting_list_entries"}
    id_columns = {"customers": "customer_id", "orders": "order_id", "waitinglist": "waiting_id"}
    last_second = {s: max(r["last_changed"] for r in copy[t]) for s, t in tables.items()}
    changed = change_records(engine, client.tenant.id, dataset, 100, seed=11)
    boundary = {
        s: sum(
            1
            for r in copy[t]
            if r["last_changed"] == last_second[s] and (s, r[id_columns[s]]) not in changed
        )
        for s, t in tables.items()
    }
    second = sync_once(server_url, client, target, page_size=7)

    assert second.error is None
    assert_copy_equals_export(target, server_url, client.name, client.key)
    per_stream = Counter(stream for stream, _ in changed)
    for stream in sizes:
        report = second.streams[stream]
        assert report.records == per_stream[stream] + report.duplicates
        assert report.duplicates == (0 if extensions else boundary[stream])
