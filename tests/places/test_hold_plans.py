"""A hold's statements on the claims, made while its event is locked, read only the rows
they are about, with most places sold, another cart's holds live, and before the database
has any statistics of the claims.

A new database's first on-sale runs before autovacuum's first ANALYZE of place_claims. The
planner then takes (tenant_id, event_id) for a handful of rows, and any index that starts
with those two columns looks as good as another: PostgreSQL's prepared statements (psycopg
prepares a statement run five times, and the plan cached for it is generic) probed for
free units through the expiry index and deleted expired holds through the unique key,
each reading every claim of the event to keep a few (3 ms and 0.6 ms of the server's CPU
with 3,000 places sold, the event's other buyers waiting). So this test makes a database of
its own, with autovacuum off for the claims, and reads the plans of a hold's statements:
PostgreSQL's generic plans, executed (EXPLAIN ANALYZE), remove no claim row by a filter
and scan no claims; SQLite's plans search an index on more than (tenant_id, event_id).
"""

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql as pgsql
from sqlalchemy import Engine

from boxoffice.server.app import create_app
from boxoffice.server.config import Settings
from boxoffice.server.db.engine import make_engine
from boxoffice.server.db.migrate import upgrade
from tests.builders import build_catalog
from tests.conftest import (
    BACKENDS,
    Client,
    _drop_postgres_database,
    _postgres_database_url,
    new_client,
)
from tests.places.test_counts_cost import Statement, plan_nodes, recorded, sell, sqlite_plan

# The standard catalog's reserved rank (27 seats) and unreserved units (45): all but
# LEFT of each are sold before the holds whose plans are read.
LINES = {"reserved": ("STD", 1, 27), "unreserved": ("FREE", 2, 45)}
LEFT = 4


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A new, migrated database whose claims have no statistics (and get none meanwhile)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    name = f"boxoffice_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = make_engine(_postgres_database_url(name))
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE place_claims SET (autovacuum_enabled = off)")
        yield engine
    finally:
        engine.dispose()
        _drop_postgres_database(name)


def hold_two(http: TestClient, client: Client, price_id: str, rank_id: int) -> None:
    cart = http.post(f"{client.base}/cart", headers=client.auth).json()["cartId"]
    line = {"priceId": price_id, "rankId": rank_id, "numberOfTickets": 2}
    held = http.post(f"{client.base}/cart/{cart}", json=[line], headers=client.auth)
    assert held.status_code == 200, held.text


def claim_statements(statements: list[Statement]) -> list[Statement]:
    """The statements that read or change the claims, one row of parameters each (not the
    executemany's list of rows). Not an insert of claims without ON CONFLICT (a hold's
    last statement, sent with the COMMIT on PostgreSQL): it reads no claims, and run again
    here it would fail on the claims it made."""
    return [
        (s, p)
        for s, p in statements
        if "place_claims" in s
        and isinstance(p, dict | tuple)
        and not ("INSERT INTO place_claims" in s and "ON CONFLICT" not in s)
    ]


_NAMED = re.compile(r"%\((\w+)\)s")


def postgres_generic_plan(
    engine: Engine, statement: Statement, *, analyze: bool = True
) -> list[dict[str, Any]]:
    """The nodes of the statement's generic plan (as a statement prepared by the driver runs
    once it is cached), executed and rolled back (`analyze`), or only planned."""
    text, params = statement
    names: list[str] = []

    def positional(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    prepared = _NAMED.sub(positional, text).replace("%%", "%")
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as conn:
        conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        conn.execute(f"PREPARE read_claims AS {prepared}")  # type: ignore[arg-type]
        arguments = pgsql.SQL(", ").join(pgsql.Literal(params[name]) for name in names)
        options = pgsql.SQL("ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON")
        explain = pgsql.SQL("EXPLAIN ({}) EXECUTE read_claims ({})").format(options, arguments)
        row = conn.execute(explain).fetchone()
        conn.rollback()
    assert row is not None
    return plan_nodes(row[0])


def assert_reads_only_its_rows(engine: Engine, statement: Statement) -> None:
    if engine.dialect.name == "sqlite":
        steps = [step for step in sqlite_plan(engine, statement) if "place_claims" in step]
        for step in steps:
            assert step.startswith("SEARCH"), (steps, statement[0])
            # An index constrained on the client and the event alone reads the event's
            # every claim.
            terms = step.rpartition("(")[2].rstrip(")").split(" AND ")
            assert set(terms) - {"tenant_id=?", "event_id=?"}, (steps, statement[0])
        return
    nodes = postgres_generic_plan(engine, statement)
    claims = [
        n for n in nodes if n.get("Relation Name") == "place_claims" and "Scan" in n["Node Type"]
    ]
    assert all(n["Node Type"] != "Seq Scan" for n in claims), (claims, statement[0])
    removed = sum(int(n.get("Rows Removed by Filter", 0)) for n in claims)
    assert removed == 0, (
        [
            (n["Node Type"], n.get("Index Name"), n.get("Index Cond"), n.get("Filter"))
            for n in claims
        ],
        statement[0][:60],
    )


def serving(fresh: Engine) -> TestClient:
    """The app on the fresh database, rate limits off."""
    settings = Settings(
        database_url=fresh.url.render_as_string(hide_password=False),
        rate_limit_per_minute=0,
        auth_failure_limit_per_minute=0,
    )
    return TestClient(create_app(settings, engine=fresh), base_url="http://127.0.0.1")


@pytest.mark.parametrize("seating", sorted(LINES))
def test_a_holds_claim_statements_read_only_their_rows_without_statistics(
    fresh: Engine, seating: str
) -> None:
    client = new_client(fresh)
    build_catalog(fresh, client)
    price_id, rank_id, places = LINES[seating]
    with serving(fresh) as http:
        sell(http, client, price_id, rank_id, places - LEFT)
        # Another buyer's cart, its holds live while this one holds.
        hold_two(http, client, price_id, rank_id)
        with recorded(fresh) as statements:
            hold_two(http, client, price_id, rank_id)
    reads = claim_statements(statements)
    # The expired holds' delete with the first reads (on PostgreSQL the taken seats and the
    # live claims, one statement), the probe of free units (unreserved), the claims
    # inserted (unless sent with the COMMIT).
    assert any("DELETE FROM place_claims" in s for s, _ in reads), statements
    for statement in reads:
        assert_reads_only_its_rows(fresh, statement)


def checked_out(
    fresh: Engine, http: TestClient, client: Client, tickets: int, body: dict[str, Any]
) -> tuple[list[Statement], Any]:
    """Another cart's holds live, then a cart holding `tickets` places of the reserved rank
    checked out with `body`: the checkout's statements, and its answer."""
    price_id, rank_id, _places = LINES["reserved"]
    hold_two(http, client, price_id, rank_id)
    cart = http.post(f"{client.base}/cart", headers=client.auth).json()["cartId"]
    line = {"priceId": price_id, "rankId": rank_id, "numberOfTickets": tickets}
    assert http.post(f"{client.base}/cart/{cart}", json=[line], headers=client.auth).is_success
    with recorded(fresh) as statements:
        answer = http.post(f"{client.base}/cart/{cart}/checkout", json=body, headers=client.auth)
    return statements, answer


def test_a_checkouts_lock_of_its_holds_reads_the_clients_holds_once(fresh: Engine) -> None:
    """PostgreSQL sends the lock of a checkout's holds with the cart's close, its items the
    cart's: as one array computed once, so that its scan of the claims runs once and gives
    only the cart's holds. As a join, a new database's generic plan read the client's live
    holds once per item (two items), or gave them all to the join (three)."""
    if fresh.dialect.name != "postgresql":
        pytest.skip("the lock is sent with the cart's close on PostgreSQL only")
    client = new_client(fresh)
    build_catalog(fresh, client)
    with serving(fresh) as http:
        # The close fails on a payment method that does not exist: the lock is run, and
        # nothing is sold, so the plan below reads the same holds.
        statements, refused = checked_out(fresh, http, client, 3, {"paymentMethodId": 999})
    assert refused.status_code in (400, 404, 422), refused.text
    (lock,) = [(s, p) for s, p in statements if "place_claims" in s and "FOR UPDATE" in s]
    scans = [
        n
        for n in postgres_generic_plan(fresh, lock)
        if n.get("Relation Name") == "place_claims" and "Scan" in n["Node Type"]
    ]
    assert scans, lock[0]
    assert all(int(n["Actual Loops"]) == 1 for n in scans), scans
    assert sum(int(n["Actual Rows"]) for n in scans) == 3


def test_a_checkouts_sale_finds_the_claims_it_sells_by_their_ids(fresh: Engine) -> None:
    """The sale (the order, its seats and their claims sold, one statement on PostgreSQL)
    finds each claim it sells through the primary key, then changes that row where it lies
    (its ctid). Joined to the seats by id alone, a new database's generic plan found them by
    a scan of the client's every claim, the ids a join filter (1.4 ms a checkout by the end
    of a 4,000-place sale, docs/benchmarks.md), and kept that plan as the claims grew."""
    if fresh.dialect.name != "postgresql":
        pytest.skip("the sale is one statement on PostgreSQL only")
    client = new_client(fresh)
    build_catalog(fresh, client)
    price_id, rank_id, places = LINES["reserved"]
    with serving(fresh) as http:
        sell(http, client, price_id, rank_id, places - LEFT)
        body = {"paymentMethodId": 1, "paid": True}
        statements, sold = checked_out(fresh, http, client, 2, body)
    assert sold.status_code == 201, sold.text
    (sale,) = [(s, p) for s, p in statements if "UPDATE place_claims" in s and "order_seat" in s]
    claims = [
        (n["Node Type"], n.get("Index Name"))
        for n in postgres_generic_plan(fresh, sale, analyze=False)
        if n.get("Relation Name") == "place_claims" and "Scan" in n["Node Type"]
    ]
    assert sorted(claims) == [("Index Scan", "pk_place_claims"), ("Tid Scan", None)], claims
