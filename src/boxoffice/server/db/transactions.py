"""One transaction per request, and the change stamps and export snapshots built on it.

How `lastChanged` and the sync watermark stay correct under concurrency (docs/sync-guarantee.md):

* Every write transaction first passes the *write barrier* in shared mode, then reads the
  clock once: that is its change stamp, `Tx.now`. On PostgreSQL the barrier is a shared
  transaction-level advisory lock; on SQLite it is the database write lock (BEGIN IMMEDIATE).
* An export takes the barrier exclusively, which waits for every in-flight writer to commit,
  reads the clock (the watermark W), releases the barrier, and only then opens its read
  snapshot. It returns only rows stamped before W.

So every row stamped before W was committed before the snapshot and is in it, and every
writer not yet committed will stamp at or after W. Passing either W or the largest
`lastChanged` seen back as `changedSince` (inclusive) can therefore never miss a change.
"""

import functools
import re
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Dialect, Engine, Executable, RowMapping, Select, text
from sqlalchemy.engine import Compiled
from sqlalchemy.engine.result import result_tuple
from sqlalchemy.exc import DBAPIError, StatementError

from boxoffice.server.db import pgwire
from boxoffice.server.db.engine import autocommit_engine, is_sqlite, writer_turn
from boxoffice.server.values.clock import now_micros

# Advisory lock key of the write barrier on PostgreSQL ("boxo").
WRITE_BARRIER_KEY = 0x626F786F

# PostgreSQL's clock (UTC microseconds) when the expression is evaluated.
_PG_CLOCK = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
_PG_NOW = text(f"SELECT {_PG_CLOCK}")


@dataclass(frozen=True, slots=True)
class Tx:
    """A write transaction: its connection and its change stamp (UTC microseconds)."""

    conn: Connection
    now: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A read-only snapshot for an export, and the watermark it is complete up to."""

    conn: Connection
    watermark: int


def _clock(conn: Connection) -> int:
    if conn.dialect.name == "sqlite":
        return now_micros()
    value = conn.execute(_PG_NOW).scalar_one()
    return int(value)


# The barrier's key as a named parameter of the statements below.
_BARRIER_PARAM = "boxoffice_write_barrier"
# The barrier passed (in shared mode), as a subquery of one row.
_PG_PASSED = f"(SELECT pg_advisory_xact_lock_shared(%({_BARRIER_PARAM})s) AS barrier) AS passed"
# The barrier and then the clock, in one round trip: the outer projection is computed for
# the row the subquery returns, so clock_timestamp() is read after the lock is granted (a
# volatile function keeps the subquery from being flattened into the outer query).
_PG_BARRIER_SQL = f"SELECT {_PG_CLOCK} FROM {_PG_PASSED}"


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Tx]:
    """Open a write transaction behind the barrier; commit on success, roll back on error.

    PostgreSQL: the transaction that `open_ahead` opened for this engine in this context,
    if any, is this one (its BEGIN was sent with the request's key check)."""
    _give_back_kept(engine)
    ahead = _AHEAD.get()
    if ahead is not None and ahead.engine is engine:
        _AHEAD.set(None)
        try:
            yield ahead.tx
        except BaseException:
            ahead.close(commit=False)
            raise
        ahead.close(commit=True)
        return
    # SQLite: the turn first, so that a writer waiting for it holds no connection.
    with writer_turn(engine), engine.connect() as raw:
        conn = raw.execution_options(write=True)
        with conn.begin():
            # SQLite: BEGIN IMMEDIATE has taken the write lock already.
            now = now_micros() if is_sqlite(engine) else _pg_begin(conn)[0]
            yield Tx(conn=conn, now=now)


def _pg_begin(
    conn: Connection, first: "DriverRead | None" = None, params: dict[str, Any] | None = None
) -> tuple[int, tuple[Any, ...] | None]:
    """Open the transaction, pass the barrier and read the clock, in ONE round trip: the
    BEGIN and the barrier's SELECT sent together (`pgwire.round_trip`; psycopg, with its
    pipeline or without, waits for its BEGIN's answer before it sends the SELECT). The
    clock, and the first row that `first` returns for `params` (None without `first`, or
    when it returns no row): with `first`, its read is part of the barrier's statement
    (`_barrier_and`), one statement where there were two."""
    pooled = conn.connection
    driver: Any = pooled.dbapi_connection
    sql: str = _PG_BARRIER_SQL
    arguments: dict[str, Any] = {_BARRIER_PARAM: WRITE_BARRIER_KEY}
    if first is not None:
        first_sql, named = first.sql_and_arguments(conn.dialect, params or {})
        if not isinstance(named, dict):
            raise TypeError("_pg_begin's first read takes its parameters by name")
        sql, arguments = _barrier_and(first_sql), {**named, **arguments}
    try:
        (outcome,) = pgwire.round_trip(driver, pooled.info, [_named_statement(sql, arguments)])
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _driver_error(exc, pooled, conn.dialect, sql, arguments) from exc
    now, *found = outcome.rows[0]
    if first is None or found[0] is None:
        return int(now), None
    return int(now), tuple(found[1:])


@functools.cache
def _barrier_and(first_sql: str) -> str:
    """The barrier and the clock (`_PG_BARRIER_SQL`), and the first row of `first_sql` (a
    statement whose parameters are named), as ONE statement: the row's columns after the
    clock, led by `found` (NULL: no row). The barrier's subquery is the outer side of the
    join, so its lock is taken first and the clock read once it is granted, as on its own;
    the read's snapshot is the statement's."""
    return (
        f"SELECT {_PG_CLOCK}, first.* FROM {_PG_PASSED}"
        f" LEFT JOIN (SELECT true AS found, read.* FROM ({first_sql}) AS read LIMIT 1) AS first"
        " ON true"
    )


@dataclass(slots=True)
class _Ahead:
    """A write transaction opened before the code that will use it (`open_ahead`)."""

    engine: Engine
    raw: Connection
    transaction: Any
    tx: Tx

    def close(self, *, commit: bool) -> None:
        """Commit or roll back, then give the connection back: what leaving
        write_transaction's blocks does."""
        try:
            if commit:
                self.transaction.commit()
            else:
                self.transaction.rollback()
        finally:
            self.raw.close()


_AHEAD: ContextVar["_Ahead | None"] = ContextVar("boxoffice_write_ahead", default=None)


def open_ahead(
    engine: Engine, first: "DriverRead", params: dict[str, Any]
) -> tuple[tuple[Any, ...] | None, Callable[[], None]]:
    """PostgreSQL: open the write transaction that the next `write_transaction(engine)` in
    this context will be, and read `first` in its first round trip (a write route's key
    check: one round trip and one connection fewer than the check on its own, then the
    transaction). The first row of `first` (None: no row), and what to call once the
    caller is done: it rolls the transaction back unless `write_transaction` has taken it
    (which then commits or rolls back as it always does). The caller decides from the row
    whether anything may run in the transaction at all."""
    if is_sqlite(engine):
        raise TypeError("open_ahead is for PostgreSQL")
    raw = engine.connect()
    try:
        conn = raw.execution_options(write=True)
        transaction = conn.begin()
        now, row = _pg_begin(conn, first, params)
    except BaseException:
        raw.close()
        raise
    ahead = _Ahead(engine=engine, raw=raw, transaction=transaction, tx=Tx(conn=conn, now=now))
    token = _AHEAD.set(ahead)

    def done() -> None:
        if _AHEAD.get() is ahead:
            _AHEAD.reset(token)
            ahead.close(commit=False)

    return row, done


# PostgreSQL: the clock as a statement's value (UTC microseconds), for `autocommit_write`:
# the start of the statement, the same value wherever the statement reads it.
PG_STATEMENT_CLOCK = "(extract(epoch FROM statement_timestamp()) * 1000000)::bigint"


@contextmanager
def autocommit_write(engine: Engine) -> Iterator[Connection]:
    """PostgreSQL: a connection for ONE write statement of rows that no export reads and
    that carry no change stamp (a new cart), in autocommit: no BEGIN, no write barrier, no
    COMMIT; one round trip where `write_transaction` makes three. The statement is atomic
    by itself; it takes its clock from PG_STATEMENT_CLOCK (the database's clock, as a
    write transaction's `Tx.now`). Not for SQLite, whose writes take the write lock
    (write_transaction)."""
    if is_sqlite(engine):
        raise TypeError("autocommit_write is for PostgreSQL")
    with _reads_connection(engine) as conn:
        # Nothing is written before a statement riding ahead has settled.
        _settle_rider(engine, on=conn)
        yield conn


# A statement and the parameters it runs with.
Pipelined = tuple[Executable, Mapping[str, Any]]
# A row as the driver returns it (DriverRead).
Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A statement as the driver's statements send it (run_pipelined, run_one and the
    others): its SQL compiled for one dialect, and the row type of its result columns
    (None: SQLAlchemy knows of none, and the driver's description, if any, names them)."""

    sql: Compiled
    row: Any
    # Its parameters: (the name the SQL gives it, the key a caller passes it by, its
    # compiled name, the parameter), as `Compiled.construct_params` reads them.
    binds: tuple[tuple[str, str, str, Any], ...] = ()
    # The SQL with PostgreSQL's own placeholders ($1, $2, ...), as psycopg would send it,
    # and the names of the parameters they stand for, in their order (`native_sql`).
    native: str = ""
    native_names: tuple[str, ...] = ()
    # SQLite's qmark placeholders (by position), not PostgreSQL's (by name).
    positional: bool = False
    # Per result column, SQLAlchemy's conversion of its values (None: none; all None: no
    # conversion at all, the rows as the driver returns them).
    processors: tuple[Callable[[Any], Any] | None, ...] | None = None
    # The parameters that are lists, each rendered as one placeholder per item (an IN
    # list); the SQL of each number of items, once made (`_Shape`).
    expanding: tuple[str, ...] = ()
    shapes: dict[tuple[int, ...], "_Shape"] = field(default_factory=dict)

    def placed(self, named: dict[str, Any]) -> tuple[str, str, list[Any], Any]:
        """For these arguments (`arguments`'s): SQLAlchemy's SQL (for the execution events
        and an error's message), the SQL sent, the values in its placeholders' order, and
        the arguments as SQLAlchemy would send them with its SQL (by name for PostgreSQL's
        pyformat, in order for SQLite's qmark)."""
        if not self.expanding:
            values = [named[name] for name in self.native_names]
            shown: Any = tuple(values) if self.positional else named
            return self.sql.string, self.native, values, shown
        lengths = tuple(len(named[name]) for name in self.expanding)
        shape = self.shapes.get(lengths)
        if shape is None:
            shape = _expanded_shape(self, named)
            if len(self.shapes) >= _SHAPES_KEPT:
                self.shapes.clear()
            self.shapes[lengths] = shape
        values = [named[name] if i is None else named[name][i] for name, i in shape.sources]
        if self.positional:
            return shape.sql, shape.native, values, tuple(values)
        return shape.sql, shape.native, values, dict(zip(shape.names, values, strict=True))

    def arguments(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The statement's arguments for `params`: what `construct_params` makes (a value
        given by its key or compiled name, else the parameter's own value), without its
        generic work for every statement (6% of an order step's thread samples), which
        this makes once, at compile time. A required value missing: construct_params's
        error."""
        arguments: dict[str, Any] = {}
        for name, key, compiled_name, bind in self.binds:
            if key in params:
                arguments[name] = params[key]
            elif compiled_name in params:
                arguments[name] = params[compiled_name]
            elif bind.required:
                # construct_params raises its error for the value missing.
                return dict(self.sql.construct_params(dict(params)) or {})
            else:
                arguments[name] = bind.effective_value if bind.callable else bind.value
        return arguments


@dataclass(frozen=True, slots=True)
class _Shape:
    """A statement with list parameters as rendered for one number of items each."""

    sql: str  # SQLAlchemy's, a placeholder per item
    native: str  # as sent (`native_sql` on PostgreSQL)
    # Per placeholder sent: the argument it takes (its name, and for an item of a list
    # its index), and (PostgreSQL) the name SQLAlchemy gives it.
    sources: tuple[tuple[str, int | None], ...]
    names: tuple[str, ...]


# The rendered shapes kept per statement (numbers of items a list parameter comes with).
_SHAPES_KEPT = 32


@dataclass(frozen=True, slots=True)
class _Item:
    """A list parameter's item as `_expanded_shape` renders it: which one it is."""

    name: str
    index: int


def _expanded_shape(sent: _Compiled, named: dict[str, Any]) -> _Shape:
    """`sent`'s SQL with its list parameters rendered for as many items as `named` gives
    each (SQLAlchemy's construct_expanded_state, as its execute renders them), and where
    each placeholder's value comes from."""
    probe = dict(named)
    for name in sent.expanding:
        probe[name] = [_Item(name, i) for i in range(len(named[name]))]
    state = sent.sql.construct_expanded_state(probe)  # type: ignore[attr-defined]
    native, names = _sent_sql(state.statement, state.positiontup if sent.positional else None)
    sources = []
    for name in names:
        value = state.parameters[name]
        sources.append((value.name, value.index) if isinstance(value, _Item) else (name, None))
    return _Shape(sql=state.statement, native=native, sources=tuple(sources), names=names)


def _sent_sql(sql: str, positiontup: Sequence[str] | None) -> tuple[str, tuple[str, ...]]:
    """SQLAlchemy's SQL as the driver is sent it, and the names of the values of its
    placeholders, in their order: SQLite's qmark SQL as it is, a name a placeholder
    (`positiontup`); PostgreSQL's pyformat SQL with its own placeholders (`native_sql`)."""
    if positiontup is not None:
        return sql, tuple(positiontup)
    return native_sql(sql)


# A placeholder of SQLAlchemy's pyformat SQL (psycopg's dialect), or its escaped percent.
_PYFORMAT = re.compile(r"%\(([^)]+)\)s|%%")


def native_sql(sql: str) -> tuple[str, tuple[str, ...]]:
    """SQL with named pyformat placeholders (`%(name)s`, a literal percent as `%%`), as
    PostgreSQL takes it: each name's placeholders as one `$n`, numbered in the order the
    names first appear, the percents unescaped; and those names, in that order. What
    psycopg makes of the SQL before it sends it, at every execution: made once per
    statement, then sent as it is (`pgwire`, which prepares it once a connection). psycopg
    caches its own conversion only for statements up to 4 KiB and 50 parameters: a
    checkout's sale is longer, and its conversion cost 69 us a checkout (timeit; 6% of an
    order step's thread samples, py-spy --gil, PostgreSQL)."""
    numbers: dict[str, str] = {}

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        number = numbers.get(name)
        if number is None:
            number = numbers[name] = f"${len(numbers) + 1}"
        return number

    return _PYFORMAT.sub(placeholder, sql), tuple(numbers)


# Each statement as compiled for each dialect it ran on, kept with the statement (the hot
# path's statements are kept built: db/scoping.py, per_tenant).
_PIPELINE_SQL: "weakref.WeakKeyDictionary[Executable, dict[str, _Compiled]]" = (
    weakref.WeakKeyDictionary()
)


def _pipeline_sql(statement: Executable, dialect: Dialect) -> _Compiled:
    """The statement compiled once, with its rows' type (the names of its result columns
    as the SQL labels them: no description read from the driver per statement) and the
    conversions of its columns' values, if any (a boolean read on SQLite, say); a list
    parameter's IN list rendered once per number of items (`_Compiled.placed`). Refused
    when a parameter needs SQLAlchemy's conversion or a value is rendered into the SQL
    itself (literal_execute), which the driver's statements do not make."""
    kept = _PIPELINE_SQL.get(statement)
    found = None if kept is None else kept.get(dialect.name)
    if found is None:
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        processors = tuple(
            column_type._cached_result_processor(dialect, None)
            for _key, _name, _objects, column_type in compiled._result_columns
        )
        if compiled._bind_processors:
            raise TypeError(f"run_pipelined cannot run {statement}: its values need converting")
        escaped = compiled.escaped_bind_names
        expanding = tuple(
            escaped.get(compiled.bind_names[bind], compiled.bind_names[bind])
            for bind in compiled.post_compile_params
            if bind.expanding
        )
        if compiled.literal_execute_params or len(expanding) < len(compiled.post_compile_params):
            # Values that SQLAlchemy renders into the SQL itself at each execution
            # (literal_execute): the SQL compiled here would hold their placeholders.
            raise TypeError(f"run_pipelined cannot run {statement}: its SQL is rendered per call")
        if compiled.insert_prefetch or compiled.update_prefetch:
            # Columns whose values SQLAlchemy computes in Python at each execution (a
            # column's default), which no statement here would send.
            raise TypeError(f"run_pipelined cannot run {statement}: its values are made per call")
        names = [keyname for keyname, _name, _objects, _type in compiled._result_columns]
        binds = tuple(
            (escaped.get(name, name), bind.key, name, bind)
            for bind, name in compiled.bind_names.items()
        )
        positiontup = [escaped.get(name, name) for name in compiled.positiontup or ()]
        native, native_names = _sent_sql(
            compiled.string, positiontup if compiled.positional else None
        )
        found = _Compiled(
            sql=compiled,
            row=result_tuple(names) if names else None,
            binds=binds,
            native=native,
            native_names=native_names,
            positional=compiled.positional,
            processors=processors if any(processors) else None,
            expanding=expanding,
        )
        if kept is None:
            kept = _PIPELINE_SQL[statement] = {}
        kept[dialect.name] = found
    return found


# The execution option of a write transaction's connection once its COMMIT has been sent
# (run_pipelined with `commit`): nothing may run on it afterwards (the test suite refuses
# it: tests/conftest.py).
COMMITTED = "committed"


def run_pipelined(
    conn: Connection, statements: Sequence[Pipelined], *, commit: bool = False
) -> list[list[RowMapping]]:
    """PostgreSQL: the statements sent in ONE round trip (libpq's pipeline: `pgwire`) and run
    by the server one after the other, each as in its own execute: under READ COMMITTED a
    statement's snapshot is taken when it starts, so a read sent after a statement that
    waits for a row lock reads what the lock's holder committed. Each statement's rows.

    With `commit` they are the write transaction's last statements, and its COMMIT is sent
    with them: the row locks they take are released as soon as the server has run them,
    not a round trip later. A statement that fails skips the COMMIT (the transaction rolls
    back as on any error). Nothing may run on the connection afterwards; the transaction's
    own commit (write_transaction) then finds nothing to commit.

    Sent as `_pg_begin` sends its statement (`pgwire.round_trip`: with the COMMIT, one
    round trip where psycopg's pipeline makes two): for statements whose values need no
    conversion (text and integers); SQLAlchemy's execution events still see each statement
    (`before_execute` with the statement, `before_cursor_execute` with its SQL), so that
    what checks or counts every statement sees these too."""
    dialect = conn.dialect
    compiled = [
        (statement, _pipeline_sql(statement, dialect), params) for statement, params in statements
    ]
    pooled = conn.connection
    sql, arguments = "", None  # the statement announced last, for an error's message
    sent_statements = []
    for statement, sent, params in compiled:
        sql, native, values, arguments = _announce(conn, statement, sent, params)
        sent_statements.append(pgwire.Statement(_wire(native), values))
    if commit:
        sent_statements.append(pgwire.COMMIT)
    try:
        outcomes = _round_trip(conn, pooled, sent_statements)
    except dialect.loaded_dbapi.Error as exc:
        raise _driver_error(exc, pooled, dialect, sql, arguments) from exc
    if commit:
        conn.execution_options(**{COMMITTED: True})
    # The statements' outcomes (the COMMIT's, last, has no rows).
    mine = outcomes[: len(compiled)]
    return [_rows(sent, outcome) for (_, sent, _), outcome in zip(compiled, mine, strict=True)]


def run_one(conn: Connection, statement: Executable, params: Mapping[str, Any]) -> list[RowMapping]:
    """ONE statement's rows, for the hot path's statements whose values are text and
    integers, on the driver as `run_pipelined` runs each of its own (compiled once per
    dialect with its rows' type; the execution events see it; PostgreSQL's by `pgwire`):
    SQLAlchemy's execute builds its result from the driver's description of every column,
    per statement (a fifth of `GET /event/{id}`'s CPU in its request thread on PostgreSQL,
    the event's twenty columns), and costs SQLite 60 us a statement against 10 for the
    statement itself (DriverRead)."""
    (rows,) = _on_driver(conn, statement, [params], _rows)
    return rows


def run_first(
    conn: Connection, statement: Executable, params: Mapping[str, Any]
) -> RowMapping | None:
    """The first row of `run_one`, or None."""
    rows = run_one(conn, statement, params)
    return rows[0] if rows else None


def run_tuples(
    conn: Connection, statement: Executable, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """`run_one`'s rows as the driver returns them, tuples in the statement's column order
    (for a caller that unpacks them)."""
    (rows,) = _on_driver(conn, statement, [params], _tuples)
    return rows


def run_count(conn: Connection, statement: Executable, params: Mapping[str, Any]) -> int:
    """`run_one` for an UPDATE or DELETE without RETURNING: the rows it changed."""
    (count,) = _on_driver(conn, statement, [params], _rowcount)
    return count


def run_many(conn: Connection, statement: Executable, many: Sequence[Mapping[str, Any]]) -> None:
    """`run_one` for a statement without rows (no RETURNING), run once for each of `many`
    (the driver's executemany; the execution events see it once, as SQLAlchemy's)."""
    if many:
        _on_driver(conn, statement, many, _rowcount)


def run_each(
    conn: Connection, statement: Executable, many: Sequence[Mapping[str, Any]]
) -> list[RowMapping]:
    """An INSERT ... RETURNING run for each of `many`: the rows it returns, in `many`'s
    order, a statement a row on the driver (SQLAlchemy's executemany with RETURNING,
    insertmanyvalues, builds a statement of the rows and gathers its result). PostgreSQL:
    every row's statement in one round trip (`pgwire`; the execution events see one
    executemany); SQLite: `run_one` for each, in process."""
    if conn.dialect.name == "postgresql":
        each = _on_driver(conn, statement, many, _rows) if many else []
        return [row for rows in each for row in rows]
    rows: list[RowMapping] = []
    for params in many:
        rows += run_one(conn, statement, params)
    return rows


_Read = TypeVar("_Read")


def _on_driver(
    conn: Connection,
    statement: Executable,
    many: Sequence[Mapping[str, Any]],
    read: Callable[[_Compiled, Any], _Read],
) -> list[_Read]:
    """Run the statement on the connection's driver, once for each of `many` (PostgreSQL:
    `pgwire`, in one round trip; SQLite: a cursor, an executemany for many), and `read`
    what each returned (SQLite's executemany: what it returned in all); a driver's error
    raised as SQLAlchemy's."""
    dialect = conn.dialect
    sent = _pipeline_sql(statement, dialect)
    pooled = conn.connection
    driver: Any = pooled.dbapi_connection
    sql, arguments = "", None
    try:
        if dialect.name == "postgresql":
            # pgwire: one round trip, for executemany's values too (each a statement).
            if len(many) == 1:
                sql, native, values, arguments = _announce(conn, statement, sent, many[0])
                sent_statements = [pgwire.Statement(_wire(native), values)]
            else:
                sql, many_values, arguments = _announce_many(conn, statement, sent, many)
                wire = _wire(sent.native)
                sent_statements = [pgwire.Statement(wire, values) for values in many_values]
            outcomes = _round_trip(conn, pooled, sent_statements)
            return [read(sent, outcome) for outcome in outcomes]
        cursor = driver.cursor()
        try:
            if len(many) == 1:
                sql, native, values, arguments = _announce(conn, statement, sent, many[0], cursor)
                cursor.execute(native, values)
            else:
                sql, many_values, arguments = _announce_many(conn, statement, sent, many, cursor)
                cursor.executemany(sent.native, many_values)
            return [read(sent, _sqlite_outcome(cursor))]
        finally:
            cursor.close()
    except dialect.loaded_dbapi.Error as exc:
        raise _driver_error(exc, pooled, dialect, sql, arguments) from exc


def _round_trip(
    conn: Connection, pooled: Any, statements: Sequence[pgwire.Statement]
) -> list[pgwire.Outcome]:
    """`pgwire.round_trip` of the statements on the connection's driver, led by the
    statement riding ahead on this connection (`DriverRead.ride_kept`) if one waits: the
    rider settles on what it returned before anything else is returned (it may raise)."""
    rider = _RIDING.get()
    if rider is None or rider.conn is not conn or rider.settled:
        return pgwire.round_trip(pooled.dbapi_connection, pooled.info, statements)
    outcomes = pgwire.round_trip(
        pooled.dbapi_connection, pooled.info, [rider.statement, *statements]
    )
    rider.take(outcomes[0].rows)
    return outcomes[1:]


def _sqlite_outcome(cursor: Any) -> pgwire.Outcome:
    """What SQLite's cursor returned, as `pgwire.round_trip` returns a statement's."""
    description = cursor.description
    if description is None:
        return pgwire.Outcome(rows=[], rowcount=cursor.rowcount)
    rows = cursor.fetchall()
    names = functools.partial(_described_names, description)
    return pgwire.Outcome(rows=rows, rowcount=len(rows), names=names)


def _described_names(description: Sequence[Sequence[Any]]) -> tuple[str, ...]:
    return tuple(column[0] for column in description)


def _tuples(sent: _Compiled, outcome: pgwire.Outcome) -> list[tuple[Any, ...]]:
    processors = sent.processors
    if processors is None:
        return [tuple(row) for row in outcome.rows]
    return [_converted(processors, row) for row in outcome.rows]


def _rowcount(_sent: _Compiled, outcome: pgwire.Outcome) -> int:
    return outcome.rowcount


def _announce(
    conn: Connection,
    statement: Executable,
    sent: _Compiled,
    params: Mapping[str, Any],
    cursor: Any = None,
) -> tuple[str, str, list[Any], Any]:
    """One statement's SQLAlchemy execution events, before it is sent: SQLAlchemy's SQL
    and arguments (theirs, and an error's message), the SQL sent and its values in order.
    `cursor`: the driver's cursor it runs on, if any (none for `pgwire`'s)."""
    named = sent.arguments(params)
    sql, native, values, arguments = sent.placed(named)
    options = conn.get_execution_options()
    for before in conn.dispatch.before_execute:
        before(conn, statement, (), named, options)
    for before_cursor in conn.dispatch.before_cursor_execute:
        before_cursor(conn, cursor, sql, arguments, None, False)
    return sql, native, values, arguments


def _announce_many(
    conn: Connection,
    statement: Executable,
    sent: _Compiled,
    many: Sequence[Mapping[str, Any]],
    cursor: Any = None,
) -> tuple[str, list[list[Any]], Any]:
    """`_announce` for each of `many`, as one executemany (a statement without list
    parameters: one SQL for all): SQLAlchemy's SQL and arguments, each one's values."""
    if sent.expanding:
        raise TypeError(f"run_many cannot run {statement}: its SQL depends on its lists")
    sql = sent.sql.string
    named = [sent.arguments(params) for params in many]
    values = [[each[name] for name in sent.native_names] for each in named]
    arguments: Any = [tuple(v) for v in values] if sent.positional else named
    options = conn.get_execution_options()
    for before in conn.dispatch.before_execute:
        before(conn, statement, named, {}, options)
    for before_cursor in conn.dispatch.before_cursor_execute:
        before_cursor(conn, cursor, sql, arguments, None, True)
    return sql, values, arguments


@functools.lru_cache(maxsize=1024)
def _wire(native: str) -> bytes:
    """A statement's SQL as `pgwire` sends it (the hot path's statements are kept: their
    SQL strings are the same objects each time, hashed once)."""
    return native.encode()


@functools.lru_cache(maxsize=256)
def _wire_named(sql: str) -> tuple[bytes, tuple[str, ...]]:
    """SQL with named pyformat placeholders as `pgwire` sends it (`native_sql`), and the
    names of its values in order."""
    native, names = native_sql(sql)
    return native.encode(), names


def _named_statement(sql: str, arguments: Mapping[str, Any]) -> pgwire.Statement:
    """SQL with named pyformat placeholders and its arguments by name, as `pgwire` sends
    them."""
    wire, names = _wire_named(sql)
    return pgwire.Statement(wire, [arguments[name] for name in names])


def _rows(sent: _Compiled, outcome: pgwire.Outcome) -> list[RowMapping]:
    """The rows a statement returned, as mappings of the statement's row type."""
    row = sent.row
    if row is None:
        if outcome.names is None:  # a statement that returns no rows
            return []
        row = result_tuple(list(outcome.names()))
    processors = sent.processors
    if processors is None:
        return [row(values)._mapping for values in outcome.rows]
    return [row(_converted(processors, values))._mapping for values in outcome.rows]


def _converted(
    processors: tuple[Callable[[Any], Any] | None, ...], values: Sequence[Any]
) -> tuple[Any, ...]:
    """A row's values converted as SQLAlchemy's result converts them."""
    return tuple(
        value if process is None else process(value)
        for process, value in zip(processors, values, strict=True)
    )


def _driver_error(
    exc: Any, pooled: Any, dialect: Dialect, sql: str, arguments: Any
) -> StatementError:
    """A driver's error as SQLAlchemy raises it (so that the app's handlers treat it
    alike), the connection invalidated when the error says it was lost."""
    invalidated = dialect.is_disconnect(exc, pooled.dbapi_connection, None)
    if invalidated:
        pooled.invalidate(exc)
    error: StatementError = DBAPIError.instance(
        sql,
        arguments,
        exc,
        dialect.loaded_dbapi.Error,
        connection_invalidated=invalidated,
        dialect=dialect,
    )
    return error


@dataclass(slots=True)
class DriverRead:
    """ONE prebuilt SELECT, run straight on a pooled driver connection, outside any
    transaction: no BEGIN and no COMMIT (a single statement reads one snapshot by itself;
    two would not, so use read_transaction for those), and none of SQLAlchemy's work.

    For a statement that every request runs (the key check): compiled once per dialect, it
    is handed to the driver as it is (PostgreSQL: by `pgwire`). A Connection's execute (its
    events, the compiled cache, result processing) and its switch to autocommit and back
    cost 45-50 us of CPU more than the statement itself (SQLite 60 against 10, PostgreSQL
    97 against 37, the key check's statement; on PostgreSQL the connection comes from the
    autocommit pool, engine.py, and is not switched at all). So the rows come as the
    driver returns them: only for columns that need no conversion (text, integers). The
    pool's events still run (engine.py: a connection idle for a while is pinged before it
    is used).
    """

    statement: Select[Any]
    _compiled: dict[str, tuple[str, tuple[str, ...] | None]] = field(default_factory=dict)

    def _sql(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
        """The statement's SQL and, for a positional paramstyle, its parameters' order."""
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            found = self._compiled[dialect.name] = (str(compiled), order)
        return found

    def sql_and_arguments(self, dialect: Dialect, params: dict[str, Any]) -> tuple[str, Any]:
        """The statement's SQL and its arguments for `params`, as the driver takes them."""
        sql, order = self._sql(dialect)
        return sql, params if order is None else tuple(params[name] for name in order)

    def first(self, engine: Engine, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row the statement returns for `params`, or None."""
        # Both drivers' connections are in autocommit: SQLite's always (engine.py: we emit
        # BEGIN ourselves), PostgreSQL's of its autocommit pool. One round trip.
        pooled = _reads_pool(engine).raw_connection()
        try:
            return self._first_on(pooled, engine.dialect, params)
        finally:
            pooled.close()

    def first_kept(
        self, engine: Engine, params: dict[str, Any]
    ) -> tuple[tuple[Any, ...] | None, Callable[[], None]]:
        """`first`, on a connection then kept for this context's next `read_transaction`
        or `autocommit_write` of `engine`, which use it instead of checking one out of the
        same pool (a read route's key check and its read: one checkout and one checkin
        fewer: 2-3% of the instructions of a minimal read or an order step, callgrind). Any
        other work with the database gives it back first (`_give_back_kept`). The first
        row, and what to call once the caller is done: it gives the connection back unless
        one of those has taken it."""
        conn = _reads_pool(engine).connect()
        try:
            row = self._first_on(conn.connection, engine.dialect, params)
        except BaseException:
            conn.close()
            raise
        kept = _Kept(engine, conn)
        token = _KEPT.set(kept)

        def done() -> None:
            if _KEPT.get() is kept:
                _KEPT.reset(token)
            kept.give_back()

        return row, done

    def ride_kept(
        self, engine: Engine, params: dict[str, Any], settle: Callable[[Row | None], None]
    ) -> Callable[[], None]:
        """PostgreSQL: `first_kept` with the statement not sent yet: it rides ahead of the
        first statement sent on the kept connection (`read_transaction`'s, by the driver),
        in the same round trip, and `settle` gets its first row before that statement's
        rows go anywhere (it may raise: they never do). Any other work with the database
        first sends it alone (`autocommit_write`, `_give_back_kept`), and so does what is
        returned, called once the caller is done, if it has not gone yet (the caller read
        nothing, or not by the driver); `settle` runs once."""
        conn = _reads_pool(engine).connect()
        statement = _named_statement(*self.sql_and_arguments(engine.dialect, params))
        rider = _Rider(self, params, settle, statement, engine, conn)
        kept = _Kept(engine, conn)
        token = _KEPT.set(kept)
        riding = _RIDING.set(rider)

        def done() -> None:
            try:
                _settle_rider(engine)
            finally:
                if _KEPT.get() is kept:
                    _KEPT.reset(token)
                _RIDING.reset(riding)
                kept.give_back()

        return done

    def _first_on(
        self, pooled: Any, dialect: Dialect, params: dict[str, Any]
    ) -> tuple[Any, ...] | None:
        sql, arguments = self.sql_and_arguments(dialect, params)
        driver = pooled.dbapi_connection
        assert driver is not None  # just checked out: not invalidated
        if dialect.name == "postgresql":
            try:
                (outcome,) = pgwire.round_trip(
                    driver, pooled.info, [_named_statement(sql, arguments)]
                )
            except dialect.loaded_dbapi.Error as exc:
                raise _driver_error(exc, pooled, dialect, sql, arguments) from exc
            return outcome.rows[0] if outcome.rows else None
        try:
            cursor = driver.cursor()
            try:
                cursor.execute(sql, arguments)
                row = cursor.fetchone()
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as exc:
            raise _driver_error(exc, pooled, dialect, sql, arguments) from exc
        return None if row is None else tuple(row)


def _reads_pool(engine: Engine) -> Engine:
    """The engine whose pool serves statements outside a write transaction: the engine on
    SQLite (whose connections are in autocommit until we BEGIN), PostgreSQL's autocommit
    pool."""
    return engine if is_sqlite(engine) else autocommit_engine(engine)


@dataclass(slots=True, eq=False)
class _Rider:
    """A DriverRead's statement riding ahead of the first statement sent on `conn`
    (`DriverRead.ride_kept`), and what settles on its first row."""

    read: DriverRead
    params: dict[str, Any]
    settle: Callable[[Row | None], None]
    statement: pgwire.Statement
    engine: Engine
    conn: Connection
    settled: bool = False

    def take(self, rows: Sequence[Row]) -> None:
        """Settle on the rows the statement returned (once)."""
        self.settled = True
        self.settle(rows[0] if rows else None)


@dataclass(slots=True, eq=False)
class _Kept:
    """A connection of `_reads_pool(engine)` kept by `DriverRead.first_kept` (and
    `ride_kept`, with the statement riding ahead of its first)."""

    engine: Engine
    conn: Connection
    taken: bool = False

    def give_back(self) -> None:
        if not self.taken:
            self.taken = True
            self.conn.close()


_KEPT: ContextVar[_Kept | None] = ContextVar("boxoffice_kept_connection", default=None)
# The statement riding ahead on a kept connection (DriverRead.ride_kept), until it is done.
_RIDING: ContextVar[_Rider | None] = ContextVar("boxoffice_riding_statement", default=None)


def _reads_connection(engine: Engine) -> Connection:
    """A connection of `_reads_pool(engine)`, the caller's to close: the one kept for this
    context's next read of `engine` (`DriverRead.first_kept`), else one checked out."""
    kept = _KEPT.get()
    if kept is None or kept.engine is not engine:
        return _reads_pool(engine).connect()
    _KEPT.set(None)
    kept.taken = True
    return kept.conn


def _give_back_kept(engine: Engine) -> None:
    """Give the kept connection back to its pool before other work with the database, so
    that a request holds one connection at a time (a statement riding ahead on it sent
    first, alone: it may raise)."""
    _settle_rider(engine)
    kept = _KEPT.get()
    if kept is not None and kept.engine is engine:
        _KEPT.set(None)
        kept.give_back()


def _settle_rider(engine: Engine, on: Connection | None = None) -> None:
    """Send the statement riding ahead for `engine` alone, if it has not gone yet: on its
    connection while that is still kept or is `on` (handed over, not in use), else on one
    of its own (the kept one was taken and may be in use, or given back)."""
    rider = _RIDING.get()
    if rider is None or rider.settled or rider.engine is not engine:
        return
    kept = _KEPT.get()
    if (kept is not None and kept.conn is rider.conn) or on is rider.conn:
        row = rider.read._first_on(rider.conn.connection, engine.dialect, rider.params)
    else:
        row = rider.read.first(engine, rider.params)
    rider.take([row] if row is not None else [])


# The execution option of the connections `read_transaction` hands out (the test suite
# refuses a write or a row lock on them: tests/conftest.py).
READ_ONLY = "read_only"


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection for small reads, that reads one snapshot where that costs nothing more.

    SQLite: a transaction (BEGIN ... COMMIT, no round trips), so that every statement reads
    the same snapshot. PostgreSQL: autocommit, no BEGIN and no COMMIT (two round trips
    fewer: a minimal read is two round trips instead of four, with the key check): under
    READ COMMITTED each statement reads a snapshot of its own whether or not a transaction
    is open around it, so the transaction bought nothing. Writes and row locks do not
    belong here (they would not wait for a commit); reads that must agree with each other
    on PostgreSQL read in one statement (an event with its catalog version) or take an
    export snapshot (`open_export_snapshot`).
    """
    with _reads_connection(engine) as raw:
        conn = raw.execution_options(**{READ_ONLY: True})
        if is_sqlite(engine):
            with conn.begin():
                yield conn
        else:
            yield conn


def open_export_snapshot(engine: Engine) -> Snapshot:
    """Wait for in-flight writers, read the watermark, then open a read-only snapshot.

    The caller owns the returned connection and must call `close_snapshot` (the export
    streams after this function returns, so this cannot be a context manager of the route).
    """
    _give_back_kept(engine)
    conn = engine.connect().execution_options(manual_transaction=True, isolation_level="AUTOCOMMIT")
    try:
        if is_sqlite(engine):
            # In turn with the writers (engine.py): never starved by writers back to back.
            with writer_turn(engine):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                watermark = now_micros()
                conn.exec_driver_sql("COMMIT")
            conn.exec_driver_sql("BEGIN")
            # The snapshot of a deferred SQLite transaction starts at its first read.
            conn.exec_driver_sql("SELECT 1 FROM clients LIMIT 1").all()
        else:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": WRITE_BARRIER_KEY})
            try:
                watermark = _clock(conn)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": WRITE_BARRIER_KEY})
            conn.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            conn.exec_driver_sql("SELECT 1").all()
    except BaseException:
        conn.close()
        raise
    return Snapshot(conn=conn, watermark=watermark)


def close_snapshot(snapshot: Snapshot) -> None:
    try:
        snapshot.conn.exec_driver_sql("ROLLBACK")
    finally:
        snapshot.conn.close()
