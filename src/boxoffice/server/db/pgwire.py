"""PostgreSQL: the driver's statements of a request sent in ONE round trip each time, on
libpq's pipeline as psycopg's `pq` module (its binding of libpq) exposes it.

psycopg's own pipeline mode (`Connection.pipeline()`) costs a round trip more than it
sends where a transaction begins or commits in it: the BEGIN it adds before a
transaction's first statement is sent with a sync of its own and waited for before the
statement is sent, and a commit in it is synced and waited for before the pipeline's own
sync. Its generators cost Python's time besides: a BEGIN, two statements and a COMMIT in
one psycopg pipeline took 235 us of the client's CPU against 64 here, in one round trip
where psycopg made three (a loop of 3,000, six alternations, medians).

`round_trip` sends its statements, led by the transaction's BEGIN when the connection is
not in autocommit and no transaction is open (the BEGIN psycopg would send), then ONE
sync, and reads every result once the sync is sent: each statement runs as in its own
execute, one after the other; a statement that fails skips the rest (their results are
"aborted", the transaction is left failed, as psycopg leaves it) and its error is raised as
psycopg raises it. Each statement is prepared on the connection the first time it is sent
there (with the statement, in the same round trip), then executed by its name; its values
are sent as text, their types taken from the statement (SQLAlchemy's SQL casts every
placeholder: `$1::INTEGER`). The rows come back as psycopg's cursor loads them, with the
connection's adapters.

The connections must not prepare statements of their own in psycopg (db/engine.py sets its
`prepare_threshold` to None): at a rollback psycopg deallocates every prepared statement of
the connection (DEALLOCATE ALL) whenever it holds one of its own, these included.
"""

import functools
import itertools
import select
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import Connection, errors, pq
from psycopg.adapt import PyFormat, Transformer

from boxoffice.server import green

__all__ = ["Outcome", "Statement", "round_trip"]

# The statements prepared on one connection, at most (its own psycopg keeps 100 of its
# own besides): past this a new statement is sent unprepared (parsed and planned at each
# execution). The request path's statements are some tens.
PREPARED_KEPT = 128

# The key of a connection's prepared statements in its pool record's `info` (SQLAlchemy
# keeps that dictionary for the life of the driver's connection and clears it when the
# connection is replaced).
_INFO_KEY = "boxoffice_prepared"

_NAMES = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement to send: its SQL with PostgreSQL's placeholders ($1, $2, ...) and the
    values they take, in order. `prepared` False: sent as it is, without a name (a BEGIN, a
    COMMIT)."""

    sql: bytes
    values: Sequence[Any] = ()
    prepared: bool = True


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one statement returned: its rows (tuples, in its columns' order), the rows it
    changed or returned, and what gives its columns' names (None: a statement that returns
    no rows), called only by a reader that needs them (most know them from the statement:
    twenty columns' names cost a read of the event some microseconds)."""

    rows: list[tuple[Any, ...]]
    rowcount: int
    names: Callable[[], tuple[str, ...]] | None = None


COMMIT = Statement(b"COMMIT", prepared=False)

_OK = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK)


def round_trip(
    driver: Connection[Any], info: MutableMapping[str, Any], statements: Sequence[Statement]
) -> list[Outcome]:
    """Send `statements` on the driver's connection in one round trip; each one's outcome.
    `info`: the pool record's dictionary of the connection (its prepared statements). A
    failed statement's error is raised (psycopg's) once every result is read, the
    connection out of pipeline mode; a connection broken meanwhile raises psycopg's
    OperationalError."""
    pgconn = driver.pgconn
    prepared = _prepared(driver, info)
    transformer = Transformer(driver)
    # Every value dumped before anything is sent: a value that cannot be sent fails here,
    # with nothing sent.
    params = [
        transformer.dump_sequence(s.values, [PyFormat.TEXT] * len(s.values)) if s.values else None
        for s in statements
    ]
    # Per result to read, in order: the index of the statement whose outcome it is, the
    # name of a statement prepared (kept once it succeeds), or None (the BEGIN).
    expected: list[int | bytes | None] = []
    naming: dict[bytes, bytes] = {}
    pgconn.enter_pipeline_mode()
    try:
        if not driver.autocommit and pgconn.transaction_status == pq.TransactionStatus.IDLE:
            pgconn.send_query_params(_begin(driver), None)
            expected.append(None)
        for index, (statement, sent) in enumerate(zip(statements, params, strict=True)):
            name = None
            if statement.prepared:
                name = prepared.get(statement.sql) or naming.get(statement.sql)
                if name is None and len(prepared) + len(naming) < PREPARED_KEPT:
                    name = naming[statement.sql] = b"bo_%d" % next(_NAMES)
                    pgconn.send_prepare(name, statement.sql, None)
                    expected.append(name)
            if name is None:
                pgconn.send_query_params(statement.sql, sent)
            else:
                pgconn.send_query_prepared(name, sent)
            expected.append(index)
        pgconn.pipeline_sync()
        results = _results(pgconn)
        pgconn.exit_pipeline_mode()
    except BaseException:
        if pgconn.pipeline_status != pq.PipelineStatus.OFF:
            # Left in pipeline mode with results unread (a broken connection): never used
            # again (the pool replaces a closed connection).
            driver.close()
        raise
    return _outcomes(driver, transformer, prepared, naming, expected, results, len(statements))


def _prepared(driver: Connection[Any], info: MutableMapping[str, Any]) -> dict[bytes, bytes]:
    """The statements prepared on this driver connection (SQL -> name)."""
    kept = info.get(_INFO_KEY)
    if kept is None or kept[0] is not driver:
        kept = info[_INFO_KEY] = (driver, {})
    prepared: dict[bytes, bytes] = kept[1]
    return prepared


def _begin(driver: Connection[Any]) -> bytes:
    """The BEGIN psycopg sends before a transaction's first statement, with the connection's
    isolation level and access mode."""
    parts = [b"BEGIN"]
    if driver.isolation_level is not None:
        parts += [b"ISOLATION LEVEL", driver.isolation_level.name.replace("_", " ").encode()]
    if driver.read_only is not None:
        parts.append(b"READ ONLY" if driver.read_only else b"READ WRITE")
    if driver.deferrable is not None:
        parts.append(b"DEFERRABLE" if driver.deferrable else b"NOT DEFERRABLE")
    return b" ".join(parts)


def _wait(fileno: int, events: int) -> int:
    """Wait until the socket is ready for `events` (poll's flags, the GIL released); the
    events it is ready for. In a route's greenlet the event loop waits (green.py)."""
    wanted = (green.READ if events & select.POLLIN else 0) | (
        green.WRITE if events & select.POLLOUT else 0
    )
    ready = green.wait_socket(fileno, wanted)
    if ready is not None:
        return (select.POLLIN if ready & green.READ else 0) | (
            select.POLLOUT if ready & green.WRITE else 0
        )
    poller = select.poll()
    poller.register(fileno, events)
    return poller.poll()[0][1]


def _results(pgconn: pq.abc.PGconn) -> list[pq.abc.PGresult]:
    """Flush what was sent, then read every result up to the pipeline's sync (in order,
    one a statement, an aborted statement's included)."""
    fileno = pgconn.socket
    # The output flushed; the input read meanwhile, so that neither side blocks on a full
    # buffer (libpq's advice for nonblocking connections).
    while pgconn.flush():
        if _wait(fileno, select.POLLIN | select.POLLOUT) & select.POLLIN:
            pgconn.consume_input()
    results: list[pq.abc.PGresult] = []
    while True:
        while pgconn.is_busy():
            _wait(fileno, select.POLLIN)
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            continue  # the end of one statement's results
        if result.status == pq.ExecStatus.PIPELINE_SYNC:
            return results  # not followed by the end of results (libpq)
        if result.status == pq.ExecStatus.FATAL_ERROR and pgconn.status == pq.ConnStatus.BAD:
            raise errors.error_from_result(result, encoding="utf-8")
        results.append(result)


def _outcomes(
    driver: Connection[Any],
    transformer: Any,
    prepared: dict[bytes, bytes],
    naming: Mapping[bytes, bytes],
    expected: Sequence[int | bytes | None],
    results: Sequence[pq.abc.PGresult],
    count: int,
) -> list[Outcome]:
    """Each statement's outcome from the results read; the first error raised, once the
    statements prepared without one are kept."""
    if len(results) != len(expected):
        raise errors.InternalError(
            f"expected {len(expected)} results of a pipeline, got {len(results)}"
        )
    error: errors.Error | None = None
    outcomes: list[Outcome | None] = [None] * count
    names = {name: sql for sql, name in naming.items()}
    for awaited, result in zip(expected, results, strict=True):
        status = result.status
        if status not in _OK:
            if error is None and status != pq.ExecStatus.PIPELINE_ABORTED:
                error = errors.error_from_result(result, encoding=driver.info.encoding)
            continue
        if isinstance(awaited, bytes):
            prepared[names[awaited]] = awaited
        elif awaited is not None:
            outcomes[awaited] = _outcome(transformer, result)
    if error is not None:
        raise error
    if any(outcome is None for outcome in outcomes):
        raise errors.InternalError("a statement of a pipeline returned no result")
    return [outcome for outcome in outcomes if outcome is not None]


def _outcome(transformer: Any, result: pq.abc.PGresult) -> Outcome:
    if result.status == pq.ExecStatus.COMMAND_OK:
        return Outcome(rows=[], rowcount=result.command_tuples or 0)
    transformer.set_pgresult(result)
    rows = transformer.load_rows(0, result.ntuples, tuple)
    return Outcome(rows=rows, rowcount=result.ntuples, names=functools.partial(_names, result))


def _names(result: pq.abc.PGresult) -> tuple[str, ...]:
    return tuple((result.fname(i) or b"").decode() for i in range(result.nfields))
