"""GET /event/{id} and GET /seating/{id} cost the same with no place sold and with every
place sold.

Without a clock: the SQL statements a request runs are counted and compared, and each
statement that reads the place claims is explained by the database: SQLite's query plan
searches an index and never scans the claims; PostgreSQL, with sequential scans switched off
(so that it shows whether an index *can* serve the query, whatever the table's size), scans
no claims sequentially and reads as many claim rows with all sold as with none.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, func, select

from boxoffice.server.places.repository import SEATS_PER_BLOCK
from boxoffice.server.places.tables import place_sold_seats
from tests.builders import RESERVED, UNRESERVED, build_catalog
from tests.conftest import Client, cursor_executes

# The standard catalog's places: 27 + 16 seats of event 200, 45 units of event 201.
ALL_PLACES = [
    ("STD", 1, 27, RESERVED),
    ("R2", 2, 16, RESERVED),
    ("FREE", 2, 45, UNRESERVED),
]

Statement = tuple[str, Any]


@contextmanager
def recorded(engine: Engine) -> Iterator[list[Statement]]:
    """The statements (SQL text and parameters) run on the engine inside the block."""
    seen: list[Statement] = []

    def record(
        conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        seen.append((statement, parameters))

    with cursor_executes(engine, record):
        yield seen


def read_event(
    http: TestClient, engine: Engine, client: Client, event_id: int, what: str = "event"
) -> list[Statement]:
    with recorded(engine) as statements:
        response = http.get(f"{client.base}/{what}/{event_id}", headers=client.auth)
    assert response.status_code == 200, response.text
    return statements


def claim_reads(statements: list[Statement]) -> list[Statement]:
    return [
        (sql, params)
        for sql, params in statements
        if sql.lstrip().upper().startswith(("SELECT", "(SELECT")) and "place_claims" in sql
    ]


def sqlite_plan(engine: Engine, statement: Statement) -> list[str]:
    sql, params = statement
    with engine.connect() as conn:
        return [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]


def postgres_plan(engine: Engine, statement: Statement) -> list[dict[str, Any]]:
    """The plan's nodes, executed (EXPLAIN ANALYZE) with sequential scans switched off."""
    sql, params = statement
    with engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        raw = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).scalar_one()
    return plan_nodes(raw)


def plan_nodes(raw: Any) -> list[dict[str, Any]]:
    """Every node of a plan that PostgreSQL's `EXPLAIN (FORMAT JSON)` returned."""
    plan = orjson.loads(raw) if isinstance(raw, str | bytes) else raw
    nodes: list[dict[str, Any]] = []
    pending = [plan[0]["Plan"]]
    while pending:
        node = pending.pop()
        nodes.append(node)
        pending.extend(node.get("Plans", []))
    return nodes


def claims_read(engine: Engine, statements: list[Statement]) -> list[tuple[str, int]]:
    """Per statement that reads the claims: how it reads them and how many rows it got."""
    found: list[tuple[str, int]] = []
    for statement in claim_reads(statements):
        if engine.dialect.name == "sqlite":
            plan = sqlite_plan(engine, statement)
            claims = [step for step in plan if "place_claims" in step]
            assert claims and all(step.startswith("SEARCH") for step in claims), plan
            found.extend((step, 0) for step in claims)
        else:
            nodes = postgres_plan(engine, statement)
            claims = [n for n in nodes if n.get("Relation Name") == "place_claims"]
            assert claims and all("Index" in n["Node Type"] for n in claims), nodes
            found.extend((n["Node Type"], int(n["Actual Rows"])) for n in claims)
    return found


def sell(http: TestClient, client: Client, price_id: str, rank_id: int, count: int) -> None:
    """Sell `count` places of the price in one order (lines of at most 20 tickets)."""
    cart = http.post(f"{client.base}/cart", headers=client.auth).json()["cartId"]
    lines = [
        {"priceId": price_id, "rankId": rank_id, "numberOfTickets": min(20, count - n)}
        for n in range(0, count, 20)
    ]
    held = http.post(f"{client.base}/cart/{cart}", json=lines, headers=client.auth)
    assert held.status_code == 200, held.text
    sold = http.post(
        f"{client.base}/cart/{cart}/checkout",
        json={"paymentMethodId": 1, "paid": True},
        headers=client.auth,
    )
    assert sold.status_code == 201, sold.text


def sell_everything(http: TestClient, client: Client) -> None:
    for price_id, rank_id, count, _event in ALL_PLACES:
        sell(http, client, price_id, rank_id, count)


def test_reading_an_event_costs_the_same_with_none_and_all_sold(
    http: TestClient, engine: Engine, client: Client
) -> None:
    build_catalog(engine, client)
    # The first read of an event reads its layout from the catalog (places/layouts.py);
    # every later one finds it cached and reads no catalog table but the event's row.
    first = {e: read_event(http, engine, client, e) for e in (RESERVED, UNRESERVED)}
    assert any("FROM hall_seats" in sql for sql, _ in first[RESERVED])
    before = {e: read_event(http, engine, client, e) for e in (RESERVED, UNRESERVED)}
    for event_id, statements in before.items():
        # The event, its catalog version and its live claims per rank: one statement
        # (after the key check, which runs on the driver's connection); the reserved event
        # has blocked seats, whose claims are probed apart.
        reads = [sql for sql, _ in statements if sql.split()[0] != "BEGIN"]
        assert "catalog_version" in reads[0] and "FROM place_counts" in reads[0], reads
        assert len(reads) == (2 if event_id == RESERVED else 1), reads
        assert not any(
            f"FROM {table}" in sql
            for sql, _ in statements
            for table in ("hall_seats", "hall_sections", "prices", "event_blocks")
        ), statements
    sell_everything(http, client)
    after = {e: read_event(http, engine, client, e) for e in (RESERVED, UNRESERVED)}
    for event_id in (RESERVED, UNRESERVED):
        body = http.get(f"{client.base}/event/{event_id}", headers=client.auth).json()
        assert {a["available"] for a in body["availability"]} == {0}
        # The same statements, word for word, with none sold and all sold.
        assert [sql for sql, _ in before[event_id]] == [sql for sql, _ in after[event_id]]
        assert claim_reads(before[event_id]), "the claims are read (the live holds)"
        # Read through an index, never scanned; on PostgreSQL as many rows either way.
        assert claims_read(engine, before[event_id]) == claims_read(engine, after[event_id])


def test_the_seat_plan_costs_the_same_with_none_and_all_sold(
    http: TestClient, engine: Engine, client: Client
) -> None:
    """The seat plan (and seat picking, which reads an event's places the same way) reads
    the kept sold seats, a row per 63 seats at most, and the claims that expire through
    their index: never the sales one by one."""
    build_catalog(engine, client)
    read_event(http, engine, client, RESERVED, "seating")
    before = read_event(http, engine, client, RESERVED, "seating")
    sell_everything(http, client)
    after = read_event(http, engine, client, RESERVED, "seating")
    plan = http.get(f"{client.base}/seating/{RESERVED}", headers=client.auth).json()
    assert plan["available"] == 0
    assert [sql for sql, _ in before] == [sql for sql, _ in after]
    assert claims_read(engine, before) == claims_read(engine, after)
    seat_ids = [
        s["seatId"] for sec in plan["sections"] for row in sec["rows"] for s in row["seats"]
    ]
    with engine.connect() as conn:
        blocks = conn.execute(
            select(func.count()).where(
                place_sold_seats.c.tenant_id == client.tenant.id,
                place_sold_seats.c.event_id == RESERVED,
            )
        ).scalar_one()
    assert 1 <= blocks <= max(seat_ids) // SEATS_PER_BLOCK - min(seat_ids) // SEATS_PER_BLOCK + 1


def test_a_hold_on_a_sold_out_rank_is_refused_from_the_counts(
    http: TestClient, engine: Engine, client: Client
) -> None:
    build_catalog(engine, client)
    sell_everything(http, client)
    for price_id, rank_id, _count, _event in ALL_PLACES:
        cart = http.post(f"{client.base}/cart", headers=client.auth).json()["cartId"]
        line = {"priceId": price_id, "rankId": rank_id, "numberOfTickets": 2}
        with recorded(engine) as statements:
            refused = http.post(f"{client.base}/cart/{cart}", json=[line], headers=client.auth)
        assert refused.status_code == 409, refused.text
        assert refused.json()["message"] == (
            f"Not enough places available for price {price_id!r}: 2 requested, 0 available."
        )
        # Neither the hall's seats nor the claims one by one: every read of the claims
        # searches an index, and on PostgreSQL reads no claim row at all (nothing is held).
        assert not any("FROM hall_seats" in sql and "ORDER BY" in sql for sql, _ in statements)
        assert {rows for _how, rows in claims_read(engine, statements)} <= {0}
