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

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from boxoffice.server.db.engine import is_sqlite
from boxoffice.server.values.clock import now_micros

# Advisory lock key of the write barrier on PostgreSQL ("boxo").
WRITE_BARRIER_KEY = 0x626F786F

_PG_NOW = text("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint")


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


# The barrier and then the clock, in one round trip: the outer projection is computed for
# the row the subquery returns, so clock_timestamp() is read after the lock is granted (a
# volatile function keeps the subquery from being flattened into the outer query).
_PG_BARRIER_THEN_NOW = text(
    "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
    " FROM (SELECT pg_advisory_xact_lock_shared(:k) AS barrier) AS passed"
)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Tx]:
    """Open a write transaction behind the barrier; commit on success, roll back on error."""
    with engine.connect() as raw:
        conn = raw.execution_options(write=True)
        with conn.begin():
            if is_sqlite(engine):
                now = now_micros()  # BEGIN IMMEDIATE has taken the write lock
            else:
                now = int(conn.execute(_PG_BARRIER_THEN_NOW, {"k": WRITE_BARRIER_KEY}).scalar_one())
            yield Tx(conn=conn, now=now)


@contextmanager
def single_read(engine: Engine) -> Iterator[Connection]:
    """A connection for ONE read statement, outside any transaction: no BEGIN and no COMMIT
    (on PostgreSQL two round trips fewer; autocommit). A single statement reads one
    snapshot by itself; two statements here would not, so use read_transaction for those.

    SQLite's driver is in autocommit already (engine.py: we emit BEGIN ourselves), so only
    our BEGIN is left out there: switching the connection to AUTOCOMMIT would cost a PRAGMA
    and a switch back when it returns to the pool, a sixth of the key lookup's CPU."""
    with engine.connect() as raw:
        if is_sqlite(engine):
            yield raw.execution_options(manual_transaction=True)
        else:
            yield raw.execution_options(isolation_level="AUTOCOMMIT", manual_transaction=True)


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A plain read transaction for small reads."""
    with engine.connect() as conn, conn.begin():
        yield conn


def open_export_snapshot(engine: Engine) -> Snapshot:
    """Wait for in-flight writers, read the watermark, then open a read-only snapshot.

    The caller owns the returned connection and must call `close_snapshot` (the export
    streams after this function returns, so this cannot be a context manager of the route).
    """
    conn = engine.connect().execution_options(manual_transaction=True, isolation_level="AUTOCOMMIT")
    try:
        if is_sqlite(engine):
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
