"""Servers without the extensions: the sync learns from each answer what the server can do,
splits a response too large to hold into date ranges when changedUntil is honoured, and
otherwise reads it whole; the copy equals the export either way."""

from sqlalchemy import Engine

from tests.builders.datasets import Dataset, change_records
from tests.client.conftest import serve, sync_once
from tests.client.copies import assert_copy_equals_export, read_copy
from tests.client.proxy import FaultProxy
from tests.conftest import Client

SMALL = 6000  # bytes: a few records of an export, so that ranges must be split


def test_a_large_response_is_split_into_date_ranges(
    server_urls: dict[bool, str], engine: Engine, client: Client, dataset: Dataset, make_target
) -> None:
    upstream = server_urls[True]
    # Upstream honours changedUntil; the proxy hides watermark, cursor and limit.
    proxy = FaultProxy(upstream, reference=True)
    target = make_target("sqlite")
    with serve(proxy) as url:
        first = sync_once(url, client, target, max_response_bytes=SMALL)
        assert first.error is None
        assert_copy_equals_export(target, upstream, client.name, client.key)
        ranged = [s.body for s in proxy.seen if "changedUntil" in s.body]
        assert ranged, "no date range was asked for"
        assert first.streams["orders"].pages > 2
        assert first.streams["orders"].records >= 90
        states = {s["stream"]: s for s in read_copy(target)["sync_state"]}
        assert states["orders"]["watermark_kind"] in ("last_changed", "range_start")
        assert states["orders"]["range_from"] is None

        change_records(engine, client.tenant.id, dataset, 100, seed=21)
        second = sync_once(url, client, target, max_response_bytes=SMALL)
        assert second.error is None
        assert_copy_equals_export(target, upstream, client.name, client.key)


def test_without_changed_until_a_large_response_is_read_whole(
    server_urls: dict[bool, str], client: Client, dataset: Dataset, make_target
) -> None:
    # BOXOFFICE_EXTENSIONS=false refuses limit and changedUntil with a 422 naming them.
    proxy = FaultProxy(server_urls[False])
    target = make_target("parquet")
    with serve(proxy) as url:
        report = sync_once(url, client, target, max_response_bytes=SMALL)

    assert report.error is None
    assert_copy_equals_export(target, server_urls[True], client.name, client.key)
    customers = [s.body for s in proxy.seen if s.path.endswith("/customers")]
    # The first stream asks with limit (refused), then whole (too large), then for a range
    # (refused), then whole again, read to the end; the run remembers what was refused.
    assert [sorted(b) for b in customers] == [["limit"], [], ["changedUntil"], []]
    orders = [s.body for s in proxy.seen if s.path.endswith("/orders")]
    assert orders == [{}]
    assert report.streams["orders"].pages == 1


def test_a_server_ignoring_changed_until_is_detected(
    server_urls: dict[bool, str], client: Client, dataset: Dataset, make_target
) -> None:
    proxy = FaultProxy(server_urls[True], reference=True, drop_fields=frozenset({"changedUntil"}))
    target = make_target("duckdb")
    with serve(proxy) as url:
        # A page size above the export's size: no response can look cut short by a limit.
        report = sync_once(url, client, target, max_response_bytes=SMALL, page_size=1000)

    assert report.error is None
    assert_copy_equals_export(target, server_urls[True], client.name, client.key)
    # Ranges were tried on the first stream until an answer held records past its bound;
    # from then on every stream is read in one request.
    assert report.streams["orders"].records == 90
    assert [s.body for s in proxy.seen if s.path.endswith("/orders")] == [{}]
