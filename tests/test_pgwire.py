"""PostgreSQL's statements in one round trip (db/pgwire.py), and the transactions that use it."""

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import Engine, bindparam, select, text

from boxoffice.server.db import pgwire
from boxoffice.server.db.engine import make_engine
from boxoffice.server.db.transactions import (
    WRITE_BARRIER_KEY,
    run_one,
    run_pipelined,
    write_transaction,
)
from boxoffice.server.tenancy.tables import clients
from tests.conftest import new_client


@pytest.fixture
def driver(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A psycopg connection to the test database, not in autocommit (as the write pool's)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("pgwire is PostgreSQL's")
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        yield conn


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many round trips `pgwire.round_trip` makes (each one sync, sent and read back)."""
    made: list[int] = []
    read = pgwire._results

    def counted(pgconn: Any) -> Any:
        made.append(1)
        return read(pgconn)

    monkeypatch.setattr(pgwire, "_results", counted)
    return made


def _statement(sql: str, *values: Any) -> pgwire.Statement:
    return pgwire.Statement(sql.encode(), values)


def test_statements_run_in_order_in_one_round_trip_led_by_the_begin(
    driver: psycopg.Connection[Any], round_trips: list[int]
) -> None:
    """Each statement's rows, columns and count, in one round trip; on a connection not in
    autocommit with no transaction open, the BEGIN psycopg would send leads them (the
    transaction is open afterwards, and the statements ran in it); values go as text and
    take the types the SQL casts them to; NULLs both ways."""
    info: dict[str, Any] = {}
    outcomes = pgwire.round_trip(
        driver,
        info,
        [
            _statement(
                "SELECT $1::INTEGER + 1 AS n, $2::TEXT AS t, $3::TEXT AS none", 41, "é", None
            ),
            _statement("SELECT generate_series(1, $1::INTEGER) AS g", 3),
            _statement("SELECT txid_current_if_assigned() IS NULL AS unassigned"),
        ],
    )
    assert round_trips == [1]
    assert (outcomes[0].rows, outcomes[0].rowcount) == ([(42, "é", None)], 1)
    assert outcomes[0].names is not None
    assert outcomes[0].names() == ("n", "t", "none")
    assert outcomes[1].rows == [(1,), (2,), (3,)]
    assert outcomes[1].rowcount == 3
    assert outcomes[2].rows == [(True,)]
    assert driver.pgconn.transaction_status == pq.TransactionStatus.INTRANS
    assert driver.pgconn.pipeline_status == pq.PipelineStatus.OFF
    driver.rollback()
    # In autocommit: no BEGIN, each statement on its own.
    driver.autocommit = True
    (outcome,) = pgwire.round_trip(driver, info, [_statement("SELECT 1 AS one")])
    assert outcome.rows == [(1,)]
    assert driver.pgconn.transaction_status == pq.TransactionStatus.IDLE


def test_a_statement_is_prepared_once_per_connection(
    driver: psycopg.Connection[Any], round_trips: list[int]
) -> None:
    """A statement is prepared the first time it is sent on a connection (in the same
    round trip, once even when it is sent twice in it), then executed by its name; a
    connection of its own prepares its own; a statement that fails to prepare is not kept."""
    info: dict[str, Any] = {}
    doubled = _statement("SELECT $1::INTEGER * 2 AS d", 2)
    first = pgwire.round_trip(driver, info, [doubled, _statement(doubled.sql.decode(), 5)])
    assert [o.rows for o in first] == [[(4,)], [(10,)]]
    (name,) = info["boxoffice_prepared"][1].values()
    assert pgwire.round_trip(driver, info, [doubled])[0].rows == [(4,)]
    assert info["boxoffice_prepared"][1] == {doubled.sql: name}
    names = driver.execute("SELECT name FROM pg_prepared_statements").fetchall()
    assert (name.decode(),) in names
    with pytest.raises(psycopg.errors.UndefinedTable):
        pgwire.round_trip(driver, info, [_statement("SELECT * FROM no_such_table")])
    driver.rollback()
    assert list(info["boxoffice_prepared"][1]) == [doubled.sql]
    # Another connection (the record's info now another driver's): prepared anew.
    url = driver.info.dsn
    with psycopg.connect(url) as other:
        assert pgwire.round_trip(other, info, [doubled])[0].rows == [(4,)]
        assert list(info["boxoffice_prepared"][1]) == [doubled.sql]
        assert info["boxoffice_prepared"][0] is other
    assert len(round_trips) == 4


def test_a_failed_statement_skips_the_rest_and_raises_psycopgs_error(
    driver: psycopg.Connection[Any],
) -> None:
    """The first failure is raised as psycopg raises it (its SQLSTATE's class), the
    statements after it are not run (a COMMIT among them neither: the transaction is left
    failed, for the caller to roll back), and the connection is out of pipeline mode and
    usable again."""
    driver.execute("CREATE TEMPORARY TABLE IF NOT EXISTS wire_probe (n INTEGER PRIMARY KEY)")
    driver.commit()
    with pytest.raises(psycopg.errors.UniqueViolation):
        pgwire.round_trip(
            driver,
            {},
            [
                _statement("INSERT INTO wire_probe VALUES ($1::INTEGER)", 1),
                _statement("INSERT INTO wire_probe VALUES ($1::INTEGER)", 1),
                _statement("INSERT INTO wire_probe VALUES ($1::INTEGER)", 2),
                pgwire.COMMIT,
            ],
        )
    assert driver.pgconn.transaction_status == pq.TransactionStatus.INERROR
    assert driver.pgconn.pipeline_status == pq.PipelineStatus.OFF
    driver.rollback()
    assert driver.execute("SELECT count(*) FROM wire_probe").fetchone() == (0,)
    outcomes = pgwire.round_trip(
        driver, {}, [_statement("INSERT INTO wire_probe VALUES ($1::INTEGER)", 3), pgwire.COMMIT]
    )
    assert outcomes[0].rowcount == 1
    assert driver.pgconn.transaction_status == pq.TransactionStatus.IDLE
    assert driver.execute("SELECT n FROM wire_probe").fetchall() == [(3,)]


def test_a_value_that_cannot_be_sent_fails_before_anything_is_sent(
    driver: psycopg.Connection[Any], round_trips: list[int]
) -> None:
    """A value psycopg cannot adapt raises its error with nothing sent: no transaction
    opened, the connection as it was."""
    with pytest.raises(psycopg.ProgrammingError):
        pgwire.round_trip(driver, {}, [_statement("SELECT $1::TEXT", object())])
    assert round_trips == []
    assert driver.pgconn.transaction_status == pq.TransactionStatus.IDLE
    assert driver.pgconn.pipeline_status == pq.PipelineStatus.OFF


def test_a_write_transaction_begins_and_commits_in_one_round_trip_each(
    database_url: str, round_trips: list[int]
) -> None:
    """write_transaction's BEGIN, barrier and clock: one round trip; a pipelined last
    statement with its COMMIT: one more, and nothing left to commit afterwards; the row it
    wrote is there."""
    if not database_url.startswith("postgresql"):
        pytest.skip("pgwire is PostgreSQL's")
    engine: Engine = make_engine(database_url, pool_size=1)
    try:
        tenant = new_client(engine).tenant
        by_name = select(clients.c.timezone).where(clients.c.name == bindparam("p_name"))
        round_trips.clear()
        with write_transaction(engine) as tx:
            assert round_trips == [1]
            held = tx.conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND pid = pg_backend_pid() AND objid = :k"
                ),
                {"k": WRITE_BARRIER_KEY},
            ).scalar_one()
            assert held == 1
            assert [dict(r) for r in run_one(tx.conn, by_name, {"p_name": tenant.name})] == [
                {"timezone": tenant.timezone.key}
            ]
            (rows,) = run_pipelined(tx.conn, [(by_name, {"p_name": tenant.name})], commit=True)
            assert [dict(r) for r in rows] == [{"timezone": tenant.timezone.key}]
            driver: Any = tx.conn.connection.dbapi_connection
            assert driver.pgconn.transaction_status == pq.TransactionStatus.IDLE
        assert round_trips == [1, 1, 1]
    finally:
        engine.dispose()


def test_prepared_statements_outlive_a_rollback(database_url: str) -> None:
    """The engine's connections prepare nothing of their own in psycopg (engine.py): psycopg
    would deallocate every statement of the connection at a rollback, pgwire's included,
    and the next transaction's statements would fail. Statements executed through
    SQLAlchemy again and again, a transaction rolled back, then pgwire's statements again
    on the same connection: they run."""
    if not database_url.startswith("postgresql"):
        pytest.skip("pgwire is PostgreSQL's")
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        tenant = new_client(engine).tenant
        by_name = select(clients.c.timezone).where(clients.c.name == bindparam("p_name"))
        with pytest.raises(RuntimeError), write_transaction(engine) as tx:
            for _ in range(8):
                tx.conn.execute(by_name, {"p_name": tenant.name}).all()
            assert run_one(tx.conn, by_name, {"p_name": tenant.name})
            raise RuntimeError("rolled back")
        with write_transaction(engine) as tx:
            names = tx.conn.exec_driver_sql("SELECT name FROM pg_prepared_statements").all()
            assert names and all(name.startswith("bo_") for (name,) in names)
            assert run_one(tx.conn, by_name, {"p_name": tenant.name})
    finally:
        engine.dispose()
