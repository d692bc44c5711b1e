"""A request's key check keeps its connection for the route's first read (tenancy/auth.py,
`KeyCheck._run_with`; db/transactions.py, `DriverRead.first_kept`): a read route checks one
connection out of the pool the two share, not two, and no request holds two of that pool at
once or leaves one checked out, whatever its answer (rate limits off, as in the tests' app:
on PostgreSQL a rate limit's lease takes one more while the key's is kept)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event

from boxoffice.server.db.engine import autocommit_engine, is_sqlite
from tests.builders import RESERVED
from tests.carts.conftest import Shop
from tests.conftest import Client
from tests.exports.test_streaming import connections_in_use
from tests.test_tenancy import assert_unauthenticated

LINE = [{"priceId": "STD", "rankId": 1, "numberOfTickets": 2}]


def _reads_pool(engine: Engine) -> Engine:
    """The pool of the key check and of read_transaction: SQLite's one, PostgreSQL's
    autocommit pool."""
    return engine if is_sqlite(engine) else autocommit_engine(engine)


@contextmanager
def checkouts(engine: Engine) -> Iterator[list[int]]:
    """Each checkout of the reads' pool inside the block, as how many of its connections
    were checked out at that moment (itself included)."""
    pool = _reads_pool(engine)
    seen: list[int] = []

    def checked_out(_dbapi: Any, _record: Any, _proxy: Any) -> None:
        seen.append(connections_in_use(pool))

    event.listen(pool, "checkout", checked_out)
    try:
        yield seen
    finally:
        event.remove(pool, "checkout", checked_out)


def _in_use(engine: Engine) -> int:
    return connections_in_use(_reads_pool(engine))


@pytest.mark.usefixtures("catalog")
def test_a_read_route_checks_out_one_connection_for_its_key_and_its_read(
    shop: Shop, engine: Engine
) -> None:
    for path in (f"/event/{RESERVED}", f"/seating/{RESERVED}", "/export/clienttypes", "/hall"):
        with checkouts(engine) as seen:
            assert shop.get(path).status_code == 200, path
        assert seen == [1], (path, seen)


@pytest.mark.usefixtures("catalog")
def test_a_new_cart_checks_out_one_connection_on_postgresql(shop: Shop, engine: Engine) -> None:
    """PostgreSQL inserts a cart on the autocommit pool (autocommit_write), on the
    connection its key was read on; SQLite in a write transaction, after giving it back."""
    with checkouts(engine) as seen:
        shop.new_cart()
    assert seen == ([1, 1] if is_sqlite(engine) else [1]), seen


@pytest.mark.usefixtures("catalog")
def test_no_request_holds_two_connections_of_the_pool_or_keeps_one(
    shop: Shop, engine: Engine, client: Client, other_client: Client
) -> None:
    """Whatever the route does after its key check (writes, answers before any statement,
    fails), the kept connection is given back: before a write transaction at the latest,
    when the route is done otherwise."""
    wrong = client.key[:-1] + ("A" if client.key[-1] != "A" else "B")
    before = _in_use(engine)
    with checkouts(engine) as seen:
        cart = shop.new_cart()
        assert shop.add(cart, LINE).status_code == 200
        assert shop.get(f"/cart/{cart}").status_code == 200
        assert shop.checkout(cart, {"paymentMethodId": 1, "paid": True}).status_code == 201
        assert shop.get("/event/0").status_code == 404
        assert shop.get("/event?startDate=yesterday").status_code == 422
        exported = shop.http.post(client.base + "/export/orders", json={}, headers=client.auth)
        assert exported.status_code == 200
        for headers in ({"Authorization": other_client.key}, {"Authorization": wrong}):
            assert_unauthenticated(shop.http.get(client.base + "/hall", headers=headers))
            assert_unauthenticated(shop.http.post(client.base + "/cart", headers=headers))
        assert _in_use(engine) == before
    assert seen and max(seen) == before + 1, seen
