"""Streaming: an export is read, rendered and sent batch by batch, and always lets go of its
snapshot: when done, when abandoned mid-way, and when never started."""

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import Engine, event
from sqlalchemy.pool import QueuePool

from boxoffice.server.exports.exporters import ORDERS
from boxoffice.server.values.clock import now_micros
from tests.builders import Seat, at, building
from tests.conftest import Client
from tests.exports.conftest import MakeHttp, export_stream

STAMP = at("2026-02-01T12:00:00+01:00")
# A table a statement reads (not the FROM of `extract(timezone FROM ...)`).
_FROM = re.compile(r"(?<!timezone )\b(?:FROM|JOIN) (\w+)", re.IGNORECASE)


@contextmanager
def statements_by_table(engine: Engine) -> Iterator[Counter[str]]:
    """Counts the SELECT statements run on the engine, by each table they read."""
    seen: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.update(set(_FROM.findall(statement)))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def connections_in_use(engine: Engine) -> int:
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


def test_the_first_bytes_leave_before_the_last_batch_is_read(
    make_http: MakeHttp, engine: Engine, client: Client
) -> None:
    http = make_http(export_batch_size=10)
    with building(engine, client.tenant.id) as b:
        b.many_customers(75, changed_at=STAMP)
    headers = {**client.auth, "Accept-Encoding": "identity"}
    with (
        statements_by_table(engine) as read,
        http.stream("POST", f"{client.base}/export/customers", headers=headers) as response,
    ):
        chunks = response.iter_raw()
        first = next(chunks)
        # The response has started and carries one batch; at most the next one is being
        # read while this one is in flight (the test transport buffers nothing). One query
        # reads the customers, fetched a batch at a time; each batch reads its tags.
        assert first.startswith(b"[{") and first.count(b'"customerId"') == 10
        assert read["customers"] == 1
        assert read["customer_tags"] <= 2
        rest = list(chunks)
    assert read["customers"] == 1
    assert read["customer_tags"] == 8  # seven full batches and a short last one
    assert len(rest) == 7
    assert len(orjson.loads(first + b"".join(rest))) == 75


def test_a_client_that_goes_away_frees_the_snapshot(
    make_http: MakeHttp, engine: Engine, client: Client
) -> None:
    http = make_http(export_batch_size=10)
    with building(engine, client.tenant.id) as b:
        b.many_customers(75, changed_at=STAMP)
    in_use = connections_in_use(engine)
    headers = {**client.auth, "Accept-Encoding": "identity"}
    with (
        statements_by_table(engine) as read,
        http.stream("POST", f"{client.base}/export/customers", headers=headers) as response,
    ):
        chunks = response.iter_raw()
        next(chunks)
        assert connections_in_use(engine) == in_use + 1
    assert connections_in_use(engine) == in_use
    assert read["customers"] <= 2


def test_a_stream_releases_its_snapshot_however_it_ends(engine: Engine, client: Client) -> None:
    with building(engine, client.tenant.id) as b:
        b.many_customers(25, changed_at=STAMP)
    in_use = connections_in_use(engine)

    never_started = export_stream(engine, client, 10)
    assert connections_in_use(engine) == in_use + 1
    never_started.close()
    assert connections_in_use(engine) == in_use

    abandoned = export_stream(engine, client, 10)
    with statements_by_table(engine) as read:
        next(iter(abandoned))
        abandoned.close()
        abandoned.close()  # closing twice is harmless
        assert list(abandoned) == []
    assert read["customers"] == 1
    assert connections_in_use(engine) == in_use

    finished = export_stream(engine, client, 10)
    chunks = list(finished)
    assert [c.count(b'"customerId"') for c in chunks] == [10, 10, 5]
    assert connections_in_use(engine) == in_use


def test_related_rows_are_read_once_per_batch(engine: Engine, client: Client) -> None:
    """No N+1: the orders are one query that renders their seats too, fetched batch by batch;
    customers cost one query per batch, and those met in an earlier batch are not read again."""
    with building(engine, client.tenant.id) as b:
        b.client_types("vip")
        buyers = [b.customer(changed_at=STAMP, tags=["vip"]) for _ in range(5)]
        b.many_orders(35, changed_at=STAMP, customer_ids=buyers, seats=[Seat(), Seat()])
    with statements_by_table(engine) as read:
        body = b"".join(export_stream(engine, client, 10, ORDERS))
    orders = orjson.loads(body)
    assert len(orders) == 35 and all(o["user"]["clientTypes"] == ["vip"] for o in orders)
    assert read["orders"] == 1
    # The database renders each order with its seats in the orders query itself.
    assert read["order_seats"] == 1
    assert read["customers"] == 1  # all five buyers are in the first batch
    assert read["customer_tags"] == 1


def test_customers_past_the_cache_budget_are_read_again_and_exported_the_same(
    engine: Engine, client: Client
) -> None:
    with building(engine, client.tenant.id) as b:
        b.client_types("vip")
        buyers = [b.customer(changed_at=STAMP, tags=["vip"]) for _ in range(5)]
        b.many_orders(35, changed_at=STAMP, customer_ids=buyers, seats=[Seat()])
    cached = b"".join(export_stream(engine, client, 10, ORDERS))
    with statements_by_table(engine) as read:
        uncached = b"".join(export_stream(engine, client, 10, ORDERS, user_cache_bytes=0))
    assert uncached == cached
    assert read["customers"] == 4 and read["customer_tags"] == 4  # once per batch


def test_the_customer_cache_is_dropped_when_the_export_ends(engine: Engine, client: Client) -> None:
    """A finished stream keeps no customers: the stream and its generator refer to each other,
    and the cyclic collector may not free them for a long time."""
    with building(engine, client.tenant.id) as b:
        buyers = [b.customer(changed_at=STAMP) for _ in range(5)]
        b.many_orders(25, changed_at=STAMP, customer_ids=buyers, seats=[Seat()])
    for ends in ("finished", "closed"):
        export = export_stream(engine, client, 10, ORDERS)
        users = export._context.users
        chunks = iter(export)
        next(chunks)
        assert len(users) == 5
        if ends == "finished":
            assert len(list(chunks)) == 2
        else:
            export.close()
        assert len(users) == 0


def test_the_snapshot_is_consistent_while_writes_go_on(engine: Engine, client: Client) -> None:
    """Rows written after the snapshot was taken are not seen, even by later batches."""
    with building(engine, client.tenant.id) as b:
        made = b.many_customers(30, changed_at=STAMP)
    export = export_stream(engine, client, 10)
    chunks = iter(export)
    first = next(chunks)
    with building(engine, client.tenant.id) as b:
        b.many_customers(5, changed_at=STAMP)  # would sort after the first batch
        b.customer(changed_at=now_micros() - 1)
    body = first + b"".join(chunks)
    assert [c["customerId"] for c in orjson.loads(body)] == made
