"""The engine's pool: which connection a request gets, and in what state."""

import gc
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Engine,
    Integer,
    String,
    TypeDecorator,
    bindparam,
    cast,
    event,
    func,
    insert,
    literal,
    literal_column,
    make_url,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, InvalidRequestError, OperationalError

from boxoffice.server.db.engine import autocommit_engine, make_engine, writer_turn
from boxoffice.server.db.transactions import (
    WRITE_BARRIER_KEY,
    DriverRead,
    native_sql,
    open_ahead,
    read_transaction,
    run_count,
    run_each,
    run_first,
    run_many,
    run_one,
    run_pipelined,
    run_tuples,
    write_transaction,
)
from boxoffice.server.tenancy.tables import clients
from tests.conftest import new_client


def test_the_pool_hands_out_the_connection_returned_last(database_url: str) -> None:
    """Last in, first out: at a light load the same connection serves request after request
    (never idle long enough to need a ping), while the others wait unused."""
    pool = make_engine(database_url)
    try:
        first, second = pool.connect(), pool.connect()
        returned_last = second.connection.dbapi_connection
        first.close()
        second.close()
        for _ in range(3):
            with pool.connect() as conn:
                assert conn.connection.dbapi_connection is returned_last
    finally:
        pool.dispose()


def test_postgresql_statements_outside_a_transaction_have_a_pool_in_autocommit(
    database_url: str,
) -> None:
    """The key check, the reads, a new cart and a lease run on a second pool whose
    connections are in autocommit for good (never switched back and forth), while the
    engine's own connections write in transactions; disposing of the engine closes both."""
    if not database_url.startswith("postgresql"):
        with pytest.raises(TypeError):
            autocommit_engine(make_engine(database_url))
        return
    engine = make_engine(database_url)
    autocommit = autocommit_engine(engine)
    try:
        assert autocommit is autocommit_engine(engine)
        assert autocommit.pool is not engine.pool
        for _ in range(2):  # the same connection again: still in autocommit
            with autocommit.connect() as conn:
                assert conn.connection.driver_connection.autocommit is True  # type: ignore[union-attr]
                conn.exec_driver_sql("SELECT 1")
        assert _CLIENT_NAMED.first(engine, {"name": "-"}) is None
        with engine.connect() as conn:
            assert conn.connection.driver_connection.autocommit is False  # type: ignore[union-attr]
        assert autocommit.pool.checkedin() == 1  # type: ignore[attr-defined]
    finally:
        engine.dispose()
    assert autocommit.pool.checkedin() == 0  # type: ignore[attr-defined]


_CLIENT_NAMED = DriverRead(
    select(clients.c.name, clients.c.timezone).where(clients.c.name == bindparam("name"))
)


def _insert_then_fail(engine: Engine, name: str) -> None:
    with pytest.raises(RuntimeError), write_transaction(engine) as tx:
        tx.conn.execute(insert(clients).values(name=name, timezone="UTC", created_at=tx.now))
        raise RuntimeError("after the insert")


def test_a_driver_read_leaves_its_connection_writing_in_transactions(engine: Engine) -> None:
    """The key check's statement runs in autocommit (PostgreSQL); the connection it returns
    to the pool, handed out next (last in, first out), must write in a transaction again:
    a write that fails halfway leaves nothing."""
    client = new_client(engine)
    name = client.tenant.name
    assert _CLIENT_NAMED.first(engine, {"name": name}) == (name, "Europe/Amsterdam")
    assert _CLIENT_NAMED.first(engine, {"name": name + "-none"}) is None
    _insert_then_fail(engine, name + "-half")
    assert _CLIENT_NAMED.first(engine, {"name": name + "-half"}) is None


def test_a_failed_driver_read_raises_sqlalchemys_error_and_leaves_a_sound_pool(
    engine: Engine,
) -> None:
    broken = DriverRead(select(literal_column("no_such_column")).select_from(clients))
    with pytest.raises(DBAPIError):
        broken.first(engine, {})
    name = new_client(engine).tenant.name
    _insert_then_fail(engine, name + "-half")
    assert _CLIENT_NAMED.first(engine, {"name": name + "-half"}) is None
    assert _CLIENT_NAMED.first(engine, {"name": name}) is not None


def test_reads_run_without_a_transaction_on_postgresql_and_leave_writes_transactional(
    engine: Engine,
) -> None:
    """read_transaction: autocommit on PostgreSQL (no BEGIN, no COMMIT: under READ COMMITTED
    every statement reads its own snapshot anyway), a transaction on SQLite (one snapshot
    for all its reads); either way the connection goes back to the pool writing in
    transactions again: a write that fails halfway leaves nothing."""
    name = new_client(engine).tenant.name
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement.split()[0].upper())

    # PostgreSQL's reads run on the engine's autocommit pool.
    pool = engine if engine.dialect.name == "sqlite" else autocommit_engine(engine)
    event.listen(pool, "before_cursor_execute", seen)
    try:
        with read_transaction(engine) as conn:
            driver = conn.connection.driver_connection
            if engine.dialect.name == "postgresql":
                assert driver.autocommit is True  # type: ignore[union-attr]
            else:
                assert conn.in_transaction()
            assert conn.execute(select(clients.c.name).where(clients.c.name == name)).scalar()
    finally:
        event.remove(pool, "before_cursor_execute", seen)
    begun = ["BEGIN"] if engine.dialect.name == "sqlite" else []
    assert statements == [*begun, "SELECT"]
    _insert_then_fail(engine, name + "-half")
    assert _CLIENT_NAMED.first(engine, {"name": name + "-half"}) is None


def test_a_postgresql_write_begins_behind_the_barrier_in_one_round_trip(
    database_url: str,
) -> None:
    """write_transaction sends BEGIN and the barrier's SELECT together (pipeline mode): the
    transaction is open with the barrier held in shared mode until commit; a barrier that
    cannot be passed (an export holds it, the wait times out) raises SQLAlchemy's error
    like any statement, and the connection goes back to the pool writing in transactions."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the barrier is PostgreSQL's advisory lock")
    url = make_url(database_url).update_query_dict({"options": "-c lock_timeout=200"})
    pool = make_engine(url.render_as_string(hide_password=False), pool_size=1)
    try:
        with write_transaction(pool) as tx:
            shared = tx.conn.execute(
                select(func.count())
                .select_from(text("pg_locks"))
                .where(
                    text("locktype = 'advisory' AND mode = 'ShareLock'"),
                    text("pid = pg_backend_pid() AND objid = :k").bindparams(k=WRITE_BARRIER_KEY),
                )
            ).scalar_one()
            assert shared == 1
            assert tx.conn.exec_driver_sql("SELECT now() = statement_timestamp()").scalar() is False
        with pool.connect() as export:
            export.execute(text("SELECT pg_advisory_lock(:k)"), {"k": WRITE_BARRIER_KEY})
            with pytest.raises(OperationalError, match="lock timeout"), write_transaction(pool):
                pass
            export.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": WRITE_BARRIER_KEY})
            export.commit()
        name = new_client(pool).tenant.name
        _insert_then_fail(pool, name + "-half")
        assert _CLIENT_NAMED.first(pool, {"name": name + "-half"}) is None
        assert _CLIENT_NAMED.first(pool, {"name": name}) is not None
    finally:
        pool.dispose()


def test_a_write_transaction_opened_ahead_is_the_next_one_or_is_rolled_back(
    database_url: str,
) -> None:
    """open_ahead (PostgreSQL): a read in the BEGIN's round trip; the next write_transaction
    of the engine in the same context is that transaction (committed or rolled back as
    any), and one that no write_transaction took is rolled back by what open_ahead returns,
    its connection and the barrier given back."""
    if not database_url.startswith("postgresql"):
        pytest.skip("open_ahead is PostgreSQL's")
    pool = make_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=2)
    try:
        name = new_client(pool).tenant.name

        def write_then(fail: bool, suffix: str) -> None:
            row, done = open_ahead(pool, _CLIENT_NAMED, {"name": name})
            assert row == (name, "Europe/Amsterdam")
            try:
                with write_transaction(pool) as tx:
                    values = {"name": name + suffix, "timezone": "UTC", "created_at": tx.now}
                    tx.conn.execute(insert(clients).values(**values))
                    if fail:
                        raise RuntimeError("after the insert")
            finally:
                done()

        write_then(False, "-kept")
        with pytest.raises(RuntimeError):
            write_then(True, "-undone")
        assert _CLIENT_NAMED.first(pool, {"name": name + "-kept"}) is not None
        assert _CLIENT_NAMED.first(pool, {"name": name + "-undone"}) is None
        # Not taken: rolled back, and the pool's one connection is free again.
        row, done = open_ahead(pool, _CLIENT_NAMED, {"name": name + "-none"})
        assert row is None
        done()
        with pool.connect() as export:
            taken = export.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": WRITE_BARRIER_KEY}
            ).scalar_one()
            assert taken is True
            export.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": WRITE_BARRIER_KEY})
            export.commit()
        with write_transaction(pool) as tx:
            assert tx.conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        pool.dispose()


def test_pipelined_statements_answer_in_order_and_fail_as_sqlalchemys_error(
    engine: Engine,
) -> None:
    """run_pipelined (PostgreSQL): the statements' rows, each statement's in order; a
    statement that fails raises SQLAlchemy's error as an execute would, the transaction
    rolls back, and the connection goes back to the pool writing in transactions; a
    column whose values SQLAlchemy converts as they are read is converted alike, and a
    statement whose parameters would need converting is refused before it runs."""
    if engine.dialect.name != "postgresql":
        pytest.skip("pipeline mode is PostgreSQL's")
    name = new_client(engine).tenant.name
    by_name = select(clients.c.name, literal_column("1").label("one")).where(
        clients.c.name == bindparam("p_name")
    )
    numbers = select(func.generate_series(1, bindparam("p_to")).label("n"))
    # A statement that returns no rows (no RETURNING) answers an empty list.
    untouched = update(clients).where(clients.c.name == bindparam("p_none")).values(timezone="UTC")
    with write_transaction(engine) as tx:
        found = run_pipelined(
            tx.conn,
            [
                (by_name, {"p_name": name}),
                (untouched, {"p_none": name + "-none"}),
                (numbers, {"p_to": 3}),
            ],
        )
    assert [[dict(row) for row in rows] for rows in found] == [
        [{"name": name, "one": 1}],
        [],
        [{"n": 1}, {"n": 2}, {"n": 3}],
    ]
    failing = select((literal_column("1") / bindparam("p_zero")).label("x"))
    with pytest.raises(DBAPIError, match="division by zero"), write_transaction(engine) as tx:
        tx.conn.execute(
            insert(clients).values(name=name + "-half", timezone="UTC", created_at=tx.now)
        )
        run_pipelined(tx.conn, [(by_name, {"p_name": name}), (failing, {"p_zero": 0})])
    assert _CLIENT_NAMED.first(engine, {"name": name + "-half"}) is None
    _insert_then_fail(engine, name + "-half")
    assert _CLIENT_NAMED.first(engine, {"name": name + "-half"}) is None
    converted = select(cast(literal_column("1"), _Doubled).label("d"))
    with write_transaction(engine) as tx:
        (doubled,) = run_pipelined(tx.conn, [(converted, {})])
    assert [dict(row) for row in doubled] == [{"d": 2}]
    given = select(bindparam("p_given", type_=_Doubled).label("g"))
    with pytest.raises(TypeError, match="need converting"), write_transaction(engine) as tx:
        run_pipelined(tx.conn, [(given, {"p_given": 1})])


def test_a_pipelined_statements_arguments_are_those_sqlalchemy_would_send(engine: Engine) -> None:
    """run_pipelined and run_one (PostgreSQL) build a statement's arguments themselves: a
    value given by its key, a parameter's own value (a literal, a default, a callable's)
    when none is given, as SQLAlchemy's construct_params would; a required value missing
    raises SQLAlchemy's error before anything is sent."""
    if engine.dialect.name != "postgresql":
        pytest.skip("pipeline mode is PostgreSQL's")
    echoed = select(
        bindparam("p_given", type_=Integer).label("given"),
        bindparam("p_default", value=7, type_=Integer).label("default"),
        literal(5, Integer).label("literal"),
        bindparam("p_called", callable_=lambda: 9, type_=Integer).label("called"),
    )
    with write_transaction(engine) as tx:
        (rows,) = run_pipelined(tx.conn, [(echoed, {"p_given": 3})])
        (overridden,) = run_pipelined(tx.conn, [(echoed, {"p_given": 3, "p_default": 8})])
        one = run_one(tx.conn, echoed, {"p_given": 4})
    assert [dict(row) for row in rows] == [{"given": 3, "default": 7, "literal": 5, "called": 9}]
    assert [dict(row) for row in overridden] == [
        {"given": 3, "default": 8, "literal": 5, "called": 9}
    ]
    assert [dict(row) for row in one] == [{"given": 4, "default": 7, "literal": 5, "called": 9}]
    with pytest.raises(InvalidRequestError, match="p_given"), write_transaction(engine) as tx:
        run_pipelined(tx.conn, [(echoed, {})])


def test_one_statement_on_the_driver_answers_as_an_execute_would(engine: Engine) -> None:
    """run_one: one statement's rows as mappings, the execution events seeing it (the
    suite's tenant check too); an error raised as SQLAlchemy's; a statement whose SQL
    SQLAlchemy renders per call (an IN list, a literal_execute value) is refused."""
    name = new_client(engine).tenant.name
    by_name = select(clients.c.name, literal_column("1").label("one")).where(
        clients.c.name == bindparam("p_name")
    )
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    with read_transaction(engine) as conn:
        event.listen(conn.engine, "before_cursor_execute", record)
        try:
            rows = run_one(conn, by_name, {"p_name": name})
            none = run_one(conn, by_name, {"p_name": name + "-none"})
        finally:
            event.remove(conn.engine, "before_cursor_execute", record)
        assert [dict(row) for row in rows] == [{"name": name, "one": 1}]
        assert none == []
        assert len(seen) == 2
        if engine.dialect.name == "postgresql":
            failing = select((literal_column("1") / bindparam("p_zero")).label("x"))
            with pytest.raises(DBAPIError, match="division by zero"):
                run_one(conn, failing, {"p_zero": 0})
        unknown = select(literal_column("no_such_column")).where(clients.c.name == name)
        with pytest.raises(DBAPIError, match="no_such_column"):
            run_one(conn, unknown, {})
        aggregated = select(func.aggregate_strings(clients.c.name, ","))
        with pytest.raises(TypeError, match="rendered per call"):
            run_one(conn, aggregated, {})


def test_the_driver_renders_an_in_list_per_number_of_items_and_converts_values(
    engine: Engine,
) -> None:
    """A list parameter (an IN list) is rendered for each number of items as SQLAlchemy's
    execute renders it, the execution events seeing that SQL; a column whose values
    SQLAlchemy converts (a boolean on SQLite) is converted alike."""
    names = sorted(new_client(engine).tenant.name for _ in range(3))
    listed = (
        select(clients.c.name, (clients.c.id > 0).label("positive"))
        .where(clients.c.name.in_(bindparam("p_names", expanding=True)))
        .order_by(clients.c.name)
    )
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    with read_transaction(engine) as conn:
        for chosen in (names[:1], names, [], names[1:2], names[::-1]):
            expected = [dict(row) for row in conn.execute(listed, {"p_names": chosen}).mappings()]
            event.listen(conn.engine, "before_cursor_execute", record)
            try:
                found = [dict(row) for row in run_one(conn, listed, {"p_names": chosen})]
            finally:
                event.remove(conn.engine, "before_cursor_execute", record)
            assert found == expected
            assert found == [{"name": name, "positive": True} for name in sorted(chosen)]
            assert all(row["positive"] is True for row in found)
    assert len(seen) == 5
    assert not [sql for sql in seen if "POSTCOMPILE" in sql]
    with pytest.raises(TypeError, match="depends on its lists"), write_transaction(engine) as tx:
        run_many(tx.conn, listed, [{"p_names": names}, {"p_names": names}])


def test_the_driver_runs_a_statement_for_many_counts_and_returns_tuples(engine: Engine) -> None:
    """run_many: one executemany, seen once by the execution events (nothing for no rows);
    run_count: the rows an UPDATE changed; run_tuples: the rows as tuples, in order."""
    name = new_client(engine).tenant.name
    add = insert(clients).values(
        name=bindparam("p_name"), timezone=bindparam("p_zone"), created_at=bindparam("p_at")
    )
    rezone = (
        update(clients)
        .where(clients.c.name.like(bindparam("p_like")))
        .values(timezone=bindparam("p_zone"))
    )
    zones = (
        select(clients.c.name, clients.c.timezone)
        .where(clients.c.name.like(bindparam("p_like")))
        .order_by(clients.c.name)
    )
    seen: list[bool] = []

    def record(*args: object) -> None:
        seen.append(bool(args[-1]))

    like = {"p_like": f"{name}-m%"}
    with write_transaction(engine) as tx:
        event.listen(tx.conn.engine, "before_cursor_execute", record)
        try:
            added = [{"p_name": f"{name}-m{i}", "p_zone": "UTC", "p_at": tx.now} for i in range(3)]
            run_many(tx.conn, add, added)
            run_many(tx.conn, add, [])
        finally:
            event.remove(tx.conn.engine, "before_cursor_execute", record)
        assert run_count(tx.conn, rezone, {**like, "p_zone": "Europe/Amsterdam"}) == 3
        assert run_count(tx.conn, rezone, {"p_like": f"{name}-none%", "p_zone": "UTC"}) == 0
        found = run_tuples(tx.conn, zones, like)
    assert seen == [True]
    assert found == [(f"{name}-m{i}", "Europe/Amsterdam") for i in range(3)]


def test_an_insert_run_for_each_row_returns_their_rows_in_order(engine: Engine) -> None:
    """run_each: an INSERT ... RETURNING for each of the rows (a statement a row; on
    PostgreSQL all in one round trip), the rows it returned in the order given."""
    name = new_client(engine).tenant.name
    add = (
        insert(clients)
        .values(name=bindparam("p_name"), timezone=bindparam("p_zone"), created_at=0)
        .returning(clients.c.name, clients.c.timezone, sort_by_parameter_order=True)
    )
    given = [(f"{name}-e{i}", zone) for i, zone in enumerate(["UTC", "Europe/Paris", "UTC"])]
    with write_transaction(engine) as tx:
        rows = run_each(tx.conn, add, [{"p_name": n, "p_zone": z} for n, z in given])
        assert run_each(tx.conn, add, []) == []
    assert [(row["name"], row["timezone"]) for row in rows] == given


def test_native_placeholders_number_each_name_once_and_unescape_percents() -> None:
    """native_sql: what psycopg would make of SQLAlchemy's pyformat SQL, made once."""
    assert native_sql("SELECT %(a)s, %(b)s || '%%', %(a)s % 3") == (
        "SELECT $1, $2 || '%', $1 % 3",
        ("a", "b"),
    )
    assert native_sql("SELECT 1") == ("SELECT 1", ())


def test_the_driver_sends_a_long_statement_as_its_database_takes_it(engine: Engine) -> None:
    """run_one and run_pipelined (PostgreSQL) send a statement's SQL with PostgreSQL's own
    placeholders, however long it is and however many parameters it has (psycopg's own
    conversion is cached up to 4 KiB and 50 parameters): a parameter used twice, a
    literal percent and 60 parameters answer as SQLAlchemy's execute answers. On SQLite
    run_one sends the statement's qmark SQL, its arguments in their placeholders' order."""
    many = [bindparam(f"p_{n}", type_=Integer) for n in range(60)]
    padding = literal_column("'" + "x" * 5000 + "'")
    statement = select(
        sum(many[1:], many[0]).label("total"),
        (many[0] + many[0]).label("twice"),
        literal_column("'50%'", String).concat(cast(func.length(padding), String)).label("percent"),
        (many[7] % 4).label("rest"),
    )
    values = {f"p_{n}": n for n in range(60)}
    with read_transaction(engine) as conn:
        expected = [dict(row) for row in conn.execute(statement, values).mappings()]
        assert [dict(row) for row in run_one(conn, statement, values)] == expected
        assert run_first(conn, statement, values) == expected[0]
    assert expected == [{"total": sum(range(60)), "twice": 0, "percent": "50%5000", "rest": 3}]
    if engine.dialect.name == "postgresql":
        with write_transaction(engine) as tx:
            (rows,) = run_pipelined(tx.conn, [(statement, values)])
        assert [dict(row) for row in rows] == expected


class _Doubled(TypeDecorator[int]):
    """A type whose values SQLAlchemy converts as they are read and as they are sent."""

    impl = Integer
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> int:
        return int(value) * 2

    def process_bind_param(self, value: Any, dialect: Any) -> int:
        return int(value) // 2


def _sqlite_file_engine(tmp_path: Path) -> Engine:
    return make_engine(f"sqlite:///{tmp_path / 'writers.db'}")


def test_sqlite_writers_take_turns_across_threads(tmp_path: Path) -> None:
    """A writer waits for the turn in the kernel (engine.py, `_WriterLock`), not in
    SQLite's sleeping busy handler: a second thread's writer enters only after the first
    gives its turn back."""
    engine = _sqlite_file_engine(tmp_path)
    order: list[str] = []
    second_waiting = threading.Event()

    def second() -> None:
        second_waiting.set()
        with writer_turn(engine):
            order.append("second in")

    try:
        with writer_turn(engine):
            order.append("first in")
            thread = threading.Thread(target=second)
            thread.start()
            second_waiting.wait()
            time.sleep(0.05)  # let the second reach the lock; it must not get in
            order.append("first out")
        thread.join()
        assert order == ["first in", "first out", "second in"]
        # Within one thread the turn is held by the outermost transaction only.
        with writer_turn(engine), writer_turn(engine):
            pass
        thread = threading.Thread(target=second)
        thread.start()
        thread.join()
        assert order[-1] == "second in"
    finally:
        engine.dispose()


def test_sqlite_write_transactions_hold_the_turn_and_close_its_file(tmp_path: Path) -> None:
    """Write transactions from many short-lived threads: each thread's file of the lock is
    closed when the thread is gone (no descriptor leaks), and every write lands."""
    engine = _sqlite_file_engine(tmp_path)
    try:
        with write_transaction(engine) as tx:
            clients.create(tx.conn)
        before = len(os.listdir("/proc/self/fd"))

        def write(n: int) -> None:
            with write_transaction(engine) as tx:
                tx.conn.execute(
                    insert(clients).values(name=f"c{n}", timezone="UTC", created_at=tx.now)
                )

        threads = [threading.Thread(target=write, args=(n,)) for n in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        gc.collect()
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(clients)).scalar_one() == 40
        engine.dispose()
        assert len(os.listdir("/proc/self/fd")) <= before
    finally:
        engine.dispose()
