"""Failures on the way: 429s, 5xx and cut-off bodies are retried (Retry-After honoured) and
counted; 401 and 422 stop at once; a bad record is kept aside with its id, never dropped."""

from typing import Any

from sqlalchemy import Engine

from boxoffice.client.errors import AuthenticationFailed, RequestRejected, ServerUnavailable
from tests.builders.datasets import Dataset, change_records
from tests.client.conftest import serve, sync_once
from tests.client.copies import assert_copy_equals_export, read_copy
from tests.client.proxy import FaultProxy
from tests.conftest import Client


def test_429_5xx_and_cut_bodies_are_retried_and_counted(
    server_urls: dict[bool, str], client: Client, dataset: Dataset, make_target
) -> None:
    upstream = server_urls[True]
    plan = ["429", "ok", "500", "503", "ok", "cut", "ok", "ok", "429", "cut", "500"] + ["ok"] * 3
    proxy = FaultProxy(upstream, plan=plan * 3)
    sleeps: list[float] = []
    target = make_target("sqlite")
    with serve(proxy) as url:
        report = sync_once(url, client, target, page_size=11, sleep=sleeps.append)

    assert report.error is None
    assert_copy_equals_export(target, upstream, client.name, client.key)
    faults = [s for s in proxy.seen if s.action != "ok"]
    retries = sum(r.retries for r in report.streams.values())
    assert retries == len(faults) == len(sleeps)
    # Each 429 said Retry-After: 1; the pause before the next try was never shorter.
    after_429 = [sleeps[i] for i, s in enumerate(faults) if s.action == "429"]
    assert after_429 and all(pause >= 1.0 for pause in after_429)
    assert all(pause > 0 for pause in sleeps)


def test_retries_are_bounded(server_urls: dict[bool, str], client: Client, make_target) -> None:
    proxy = FaultProxy(server_urls[True], plan=["503"] * 50)
    sleeps: list[float] = []
    from boxoffice.client.api import RetryPolicy

    with serve(proxy) as url:
        report = sync_once(
            url, client, make_target("sqlite"), retry=RetryPolicy(attempts=4), sleep=sleeps.append
        )

    assert isinstance(report.error, ServerUnavailable)
    assert len(proxy.seen) == 4 and len(sleeps) == 3
    assert report.streams["clienttypes"].status == "failed"
    assert list(report.streams) == ["clienttypes"]


def test_a_wrong_key_stops_at_once(
    server_urls: dict[bool, str], client: Client, make_target
) -> None:
    proxy = FaultProxy(server_urls[True])
    with serve(proxy) as url:
        report = sync_once(url, client, make_target("sqlite"), key="bo_wrong_key_123")

    assert isinstance(report.error, AuthenticationFailed)
    assert len(proxy.seen) == 1
    assert "bo_wrong_key_123" not in str(report.error)


def test_a_422_stops_at_once(
    server_urls: dict[bool, str], client: Client, dataset: Dataset, make_target
) -> None:
    proxy = FaultProxy(server_urls[True], plan=["ok", "422"])
    with serve(proxy) as url:
        report = sync_once(url, client, make_target("sqlite"))

    assert isinstance(report.error, RequestRejected)
    assert "changedSince" in str(report.error)
    assert len(proxy.seen) == 2
    assert report.streams["customers"].status == "failed"


def _corrupt(stream: str, record: dict[str, Any]) -> dict[str, Any]:
    if stream == "orders" and record["orderId"] % 10 == 3:
        return {**record, "amount": 1.005}
    if stream == "customers" and record["customerId"] % 10 == 4:
        return {**record, "customerId": None}
    return record


def test_bad_records_are_kept_aside_with_their_id_then_replaced_when_good(
    server_urls: dict[bool, str],
    engine: Engine,
    client: Client,
    dataset: Dataset,
    make_target,
) -> None:
    upstream = server_urls[True]
    target = make_target("duckdb")
    bad_orders = sorted(i for i in dataset.order_ids if i % 10 == 3)
    bad_customers = sorted(i for i in dataset.customer_ids if i % 10 == 4)
    proxy = FaultProxy(upstream, mutate=_corrupt)
    with serve(proxy) as url:
        report = sync_once(url, client, target)

        assert report.error is None
        assert report.streams["orders"].rejected == len(bad_orders) > 0
        assert report.rejected_stored == {
            "orders": len(bad_orders),
            "customers": len(bad_customers),
        }
        copy = read_copy(target)
        rejected = {(r["stream"], r["record_id"]): r for r in copy["rejected_records"]}
        for order_id in bad_orders:
            error = rejected["orders", str(order_id)]["error"]
            assert "amount has more than two decimals" in error
        # A record without its id is kept under a digest of its content.
        anonymous = [k for k in rejected if k[0] == "customers"]
        assert len(anonymous) == len(bad_customers)
        assert all(k[1].startswith("unknown:") for k in anonymous)
        assert {o["order_id"] for o in copy["orders"]} == set(dataset.order_ids) - set(bad_orders)

        # Once the records arrive intact (the server was fixed, and they changed since),
        # they are stored and leave rejected_records.
        proxy.mutate = None
        change_records(engine, client.tenant.id, dataset, 100, seed=3)
        for order_id in bad_orders:
            _touch_order(engine, order_id)
        again = sync_once(url, client, target)

    assert again.error is None
    assert again.rejected_stored.get("orders", 0) == 0
    assert {o["order_id"] for o in read_copy(target)["orders"]} == set(dataset.order_ids)


def _touch_order(engine: Engine, order_id: int) -> None:
    from sqlalchemy import update

    from boxoffice.server.db.changes import advanced
    from boxoffice.server.db.transactions import write_transaction
    from boxoffice.server.orders.tables import orders

    with write_transaction(engine) as tx:
        tx.conn.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(
                last_changed_at=advanced(orders.c.last_changed_at, tx.now), discount_name="fixed"
            )
        )
