"""PostgreSQL: a buyer's every step sends its statements in few round trips.

Each round trip costs the worker a wait and a thread switch, and PostgreSQL a network
exchange; the reads and writes that do not depend on each other's answers are sent together
(libpq's pipeline: db/pgwire.py, through db/transactions.py). Without a clock: the
statements the app runs are recorded with the round trip that sends them (the statements of
one `pgwire.round_trip` together, any other alone), and the transaction's COMMIT with them.
The write transaction's BEGIN with its barrier and the key check are recorded apart
(`driver_trips`).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, Engine

from boxoffice.server.carts import service as carts_service
from boxoffice.server.db import pgwire
from boxoffice.server.places import service as places_service
from tests.builders import Catalog
from tests.carts.conftest import Shop, claims_of, snapshot
from tests.conftest import Client, cursor_executes

# A round trip: the first words of its statements ("UPDATE carts", "SELECT cart_items", ...).
RoundTrip = list[str]


def _verb_and_table(sql: str) -> str:
    words = sql.replace("(", " ").split()
    verb = words[0]
    if verb in ("WITH", "COMMIT"):
        return verb
    keyword = {"SELECT": "FROM", "UPDATE": "UPDATE", "INSERT": "INTO", "DELETE": "FROM"}[verb]
    return f"{verb} {words[words.index(keyword) + 1]}"


def _driver_part(sql: str) -> str:
    """What a statement sent on the driver is: "key" (the key check), "barrier" (a write
    transaction's barrier and clock), "key and barrier" (both in one statement), "other"."""
    what = " and ".join(
        name for name, part in (("key", "api_keys"), ("barrier", "advisory_xact")) if part in sql
    )
    return what or "other"


def _wire_trips(monkeypatch: pytest.MonkeyPatch, trips: list[RoundTrip], name: Any) -> None:
    """Append to `trips` each `pgwire.round_trip` from now on: `name(sql, autocommit)` of
    each of its statements that `name` names (None: left out)."""
    sent = pgwire.round_trip

    def round_trip(driver: Any, info: Any, statements: Any) -> Any:
        named = [name(s.sql.decode(), driver.autocommit) for s in statements]
        trips.append([what for what in named if what is not None])
        return sent(driver, info, statements)

    monkeypatch.setattr(pgwire, "round_trip", round_trip)


def _sqlalchemy_statement(sql: str, autocommit: bool) -> str | None:
    """A statement as `round_trips` records it; None for the key check and the barrier."""
    if _driver_part(sql) != "other":
        return None
    what = _verb_and_table(sql)
    return f"{what} autocommit" if autocommit and what != "COMMIT" else what


@contextmanager
def round_trips(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[RoundTrip]]:
    """The statements run inside the block, grouped by the round trip that sent them; a
    statement sent in autocommit (outside any transaction) is marked "autocommit", and a
    transaction's COMMIT is "COMMIT"."""
    trips: list[RoundTrip] = []
    _wire_trips(monkeypatch, trips, _sqlalchemy_statement)

    def record(
        conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if cursor is None:
            return  # one of pgwire's, recorded with its round trip
        what = _verb_and_table(statement)
        trips.append([f"{what} autocommit" if cursor.connection.autocommit else what])

    committed = psycopg.Connection.commit

    def commit(self: psycopg.Connection[Any]) -> None:
        # A COMMIT is sent only when a transaction is open (psycopg sends none when idle).
        if self.pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            trips.append(["COMMIT"])
        committed(self)

    monkeypatch.setattr(psycopg.Connection, "commit", commit)
    try:
        with cursor_executes(engine, record):
            yield trips
    finally:
        # A round trip that sent no recorded statement (a BEGIN with its barrier, a key).
        trips[:] = [trip for trip in trips if trip]


@pytest.fixture
def postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("round trips are PostgreSQL's (SQLite runs in the process)")


@pytest.mark.usefixtures("postgresql")
def test_a_cart_is_created_by_one_statement_in_autocommit(
    shop: Shop, engine: Engine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No transaction, no write barrier: carts are not exported and carry no change stamp
    (db/transactions.py, autocommit_write)."""
    with round_trips(engine, monkeypatch) as trips:
        shop.new_cart()
    assert trips == [["INSERT carts autocommit"]]


@pytest.mark.usefixtures("postgresql")
def test_a_hold_of_one_event_sends_its_statements_and_its_commit_in_four_round_trips(
    shop: Shop, engine: Engine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cart's move with its prices (one statement: WITH) and its items; the event's
    lock with its first reads;
    the probe of free units; the items inserted with their holds, and the COMMIT with
    them (the event's lock is released a round trip sooner). (After a first hold of the
    event, which reads its layout once: places/layouts.py.)"""
    line = {"priceId": "FREE", "rankId": 2, "numberOfTickets": 2}
    assert shop.add(shop.new_cart(), [line]).status_code == 200
    cart = shop.new_cart()
    with round_trips(engine, monkeypatch) as trips:
        reply = shop.add(cart, [line])
    assert reply.status_code == 200, reply.text
    assert len(trips) == 4, trips
    assert trips[0] == ["WITH", "SELECT cart_items"]
    assert trips[1][0] == "SELECT events"
    assert trips[3] == ["WITH", "COMMIT"]


@pytest.mark.usefixtures("postgresql")
def test_a_checkout_sends_its_statements_and_its_commit_in_two_round_trips(
    shop: Shop, engine: Engine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cart closed with its items read and their holds locked (one statement: WITH)
    and the payment method read; then the order, its seats and their holds turned into
    sales in one statement (WITH), the counts and seats kept, and the COMMIT with them
    (the counts' rows, which every checkout of the event changes, are locked for no round
    trip more)."""
    cart = shop.new_cart()
    lines = [
        {"priceId": "STD", "rankId": 1, "numberOfTickets": 2},
        {"priceId": "FREE", "rankId": 2},
        {"priceId": "donation", "rankId": 0, "amount": "5.00"},
    ]
    assert shop.add(cart, lines).status_code == 200
    with round_trips(engine, monkeypatch) as trips:
        reply = shop.checkout(cart, {"paymentMethodId": 1, "paid": True})
    assert reply.status_code == 201, reply.text
    assert trips == [
        ["UPDATE carts", "WITH", "SELECT payment_methods"],
        [
            "WITH",
            *["INSERT place_counts"] * 2,
            "INSERT place_sold_seats",
            "COMMIT",
        ],
    ]


@pytest.mark.usefixtures("postgresql")
def test_a_hold_whose_last_statement_finds_a_place_taken_commits_nothing_and_picks_again(
    shop: Shop,
    engine: Engine,
    client: Client,
    catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The insert sent with the COMMIT fails on a place claimed meanwhile (as by an order
    made live again, which does not take the event's lock) instead of skipping it: the
    COMMIT is not made, nothing of the request stays, and the request runs once more,
    committed on its own, where the place lost is picked again."""
    # The probe offers units 1 and 2 whatever is claimed: the second cart's first attempt
    # then inserts places the first cart holds.
    monkeypatch.setattr(places_service, "probe_free_units", lambda conn, **_: [1, 2])
    line = {"priceId": "FREE", "rankId": 2, "numberOfTickets": 2}
    first = shop.new_cart()
    assert shop.add(first, [line]).status_code == 200
    second = shop.new_cart()
    attempts = _count_calls(monkeypatch, carts_service, "add_items")
    reply = shop.add(second, [line])
    assert reply.status_code == 200, reply.text
    assert attempts == [{"last": True}, {}]
    keys = {
        claim["cart_item_id"]: claim["place_key"] for claim in claims_of(engine, client.tenant.id)
    }
    items = {item["itemId"] for item in reply.json()["cartItems"]}
    assert len(items) == 2
    assert sorted(keys[item] for item in items) == ["u2:3", "u2:4"]
    assert sorted(keys.values()) == ["u2:1", "u2:2", "u2:3", "u2:4"]
    assert len(snapshot(engine, client.tenant.id)["cart_items"]) == 4


def _count_calls(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[dict[str, Any]]:
    """Each call of `module.name` from now on, by the keyword arguments beyond the usual."""
    calls: list[dict[str, Any]] = []
    real = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append({k: v for k, v in kwargs.items() if k == "last"})
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


@contextmanager
def driver_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[RoundTrip]]:
    """Every statement sent through the driver, grouped by round trip as `round_trips`
    groups SQLAlchemy's (those of one `pgwire.round_trip` together; any other, through
    psycopg's cursor, alone), named as `_driver_part` names them."""
    trips: list[RoundTrip] = []
    _wire_trips(monkeypatch, trips, lambda sql, _autocommit: _driver_part(sql))
    executed = psycopg.Cursor.execute

    def execute(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append([_driver_part(str(query))])
        return executed(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    yield trips


@pytest.mark.usefixtures("postgresql")
def test_a_write_route_checks_the_key_in_its_transactions_first_round_trip(
    shop: Shop, engine: Engine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hold and a checkout (routes whose first work is a write transaction) read the key
    with their BEGIN, in the barrier's statement; a read and a new cart read it in a round
    trip of its own, before their statements."""
    cart = shop.new_cart()
    line = [{"priceId": "STD", "rankId": 1, "numberOfTickets": 2}]
    with driver_trips(monkeypatch) as trips:
        assert shop.add(cart, line).status_code == 200
    assert trips[0] == ["key and barrier"], trips
    assert sum("key" in what for trip in trips for what in trip) == 1
    with driver_trips(monkeypatch) as trips:
        assert shop.checkout(cart, {"paymentMethodId": 1, "paid": True}).status_code == 201
    assert trips[0] == ["key and barrier"], trips
    assert sum("key" in what for trip in trips for what in trip) == 1
    with driver_trips(monkeypatch) as trips:
        assert shop.get(f"/cart/{cart}").status_code == 404
        shop.new_cart()
    assert [trip for trip in trips if "key" in trip] == [["key"], ["key"]], trips
