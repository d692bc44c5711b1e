"""Engines for SQLite and PostgreSQL, configured so both behave the same way."""

import asyncio
import fcntl
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import greenlet
import psycopg
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError

from boxoffice.server import green

# A pooled PostgreSQL connection that has been idle for longer than this is pinged before
# it is used again (a restarted or failed-over database has closed it meanwhile).
PING_AFTER_IDLE_SECONDS = 1.0

# Connections kept open between requests. A request holds one connection at a time, in one
# of the request thread pool's threads (threadpool.THREADS: 3 a worker on PostgreSQL, 4 on
# SQLite) or in a greenlet on the event loop (threadpool.GREENLETS: 3 on PostgreSQL, 20 on
# SQLite, where it holds one only while its statements run), so under load up to that
# many are in use at once, and a streaming export holds one besides as long as it
# streams; a connection beyond the kept ones is opened for one checkout and closed again
# at checkin. SQLAlchemy's default of 5 (and the 10 kept here before) made a busy worker
# open and close a connection for most requests: on PostgreSQL a new backend, on SQLite a
# new file handle and its four PRAGMAs (3% of the minimal read's CPU at 8 requests in
# flight). PostgreSQL keeps 20 and opens at most 10 more (30, as before); SQLite
# connections are cheap to keep. Last in, first out: the connection returned last is
# handed out next, so that at a light load a few connections serve every request and are
# never idle long enough to be pinged (first in, first out would cycle through all 20 and
# ping each one whenever requests came less often than 20 a second).
_POSTGRES_POOL = {"pool_size": 20, "max_overflow": 10, "pool_use_lifo": True}
_SQLITE_FILE_POOL = {"pool_size": 20, "max_overflow": 30, "pool_use_lifo": True}

# PostgreSQL's statements outside a transaction (the key check of every API request, the
# reads of read_transaction, a new cart, a rate limit's lease) run on a pool of their own
# whose connections are in autocommit from the start and stay so: switching a pooled
# connection to autocommit and back cost a quarter of the key check's CPU in-process (the
# driver's two settings and the pool's reset on its return). A request uses one of these
# at a time (two while its key's rate limit takes a lease with the key check's connection
# kept: transactions.py, DriverRead.first_kept), in a request thread (3 a worker), so 5 are
# kept and 10 opened at most (more threads wait for one); nothing is reset on return,
# since a connection in autocommit has no transaction to end.
_POSTGRES_AUTOCOMMIT_POOL = {
    "pool_size": 5,
    "max_overflow": 5,
    "pool_use_lifo": True,
    "pool_reset_on_return": None,
    "isolation_level": "AUTOCOMMIT",
}


class GreenConnection(psycopg.Connection[Any]):
    """psycopg's connection, whose waits for its socket, in a route's greenlet
    (green.py), switch to the event loop instead of blocking its thread: every statement
    psycopg sends for a route that runs on the event loop (its own execute, commit,
    rollback, a ping), as db/pgwire.py's round trips do. Only once the pool has handed the
    connection out (`_green_waits`): SQLAlchemy makes a new connection ready (its first
    one's queries included) holding a lock of its own, which a greenlet must not hold
    while the loop runs others. Connecting blocks as before (rare: the pool keeps them)."""

    green_waits = False

    def wait(
        self,
        gen: Any,
        interval: float = 0.1,
        timeout: float | None = None,
    ) -> Any:
        if not (self.green_waits and timeout is None and green.in_request_greenlet()):
            return super().wait(gen, interval, timeout)
        fileno = self.pgconn.socket
        try:
            waiting = next(gen)
            while True:
                ready = green.wait_socket(fileno, int(waiting))
                waiting = gen.send(ready)
        except StopIteration as done:
            return done.value


def _green_waits(engine: Engine) -> None:
    """A PostgreSQL engine's connections are GreenConnections, their waits green once the
    pool hands them out."""

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return GreenConnection.connect(*cargs, **cparams)

    @event.listens_for(engine, "checkout")
    def _handed_out(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.green_waits = True


def normalise_url(url: str) -> URL:
    """Accept plain postgresql:// URLs and use psycopg 3 for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, connect_timeout: int = 10, **kwargs: Any) -> Engine:
    """An engine for the URL. On PostgreSQL a connection attempt gives up after
    `connect_timeout` seconds (unless the URL sets its own `connect_timeout`), so that a
    database that does not answer makes requests and /readyz fail instead of hang."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database not in (None, "", ":memory:"):
            kwargs = {**_SQLITE_FILE_POOL, **kwargs}
        engine = create_engine(
            parsed, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )
        _configure_sqlite(engine)
        if parsed.database not in (None, "", ":memory:"):
            _writer_locks[engine] = _WriterLock(f"{parsed.database}.writers")
        return engine
    # psycopg prepares nothing of its own: the request path's statements are prepared by
    # db/pgwire.py, and psycopg, at a rollback, deallocates every prepared statement of
    # the connection (DEALLOCATE ALL) when it has prepared one itself, pgwire's included.
    connect_args: dict[str, Any] = {"prepare_threshold": None}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = connect_timeout
    engine = create_engine(parsed, connect_args=connect_args, **{**_POSTGRES_POOL, **kwargs})
    _green_waits(engine)
    _ping_idle_connections(engine)
    autocommit = create_engine(
        parsed,
        connect_args=connect_args,
        **{**_POSTGRES_POOL, **kwargs, **_POSTGRES_AUTOCOMMIT_POOL},
    )
    _green_waits(autocommit)
    _ping_idle_connections(autocommit)
    _autocommit_engines[engine] = autocommit
    # Disposing of the engine (before a test drops its database, say) closes both pools.
    event.listen(engine, "engine_disposed", lambda _engine: autocommit.dispose())
    return engine


_autocommit_engines: "weakref.WeakKeyDictionary[Engine, Engine]" = weakref.WeakKeyDictionary()


def autocommit_engine(engine: Engine) -> Engine:
    """PostgreSQL: the engine's pool of connections in autocommit (`_POSTGRES_AUTOCOMMIT_POOL`)
    for statements outside a transaction, or, for an engine not made by `make_engine`, the
    engine itself with its Connections switched to autocommit for each use (a raw
    connection of it is not switched: its statement's transaction is rolled back when it
    returns to the pool). Not for SQLite, where we BEGIN ourselves on connections that are
    always in autocommit (`_configure_sqlite`)."""
    if is_sqlite(engine):
        raise TypeError("autocommit_engine is for PostgreSQL")
    found = _autocommit_engines.get(engine)
    return found if found is not None else engine.execution_options(isolation_level="AUTOCOMMIT")


def _ping_idle_connections(engine: Engine) -> None:
    """`pool_pre_ping`, but only for a connection idle for PING_AFTER_IDLE_SECONDS.

    SQLAlchemy's pre-ping costs a round trip on every checkout, two or more per request;
    a connection that was in use a moment ago needs none. A dead one found here is
    replaced by a new connection before the request gets it (the pool retries the
    checkout on DisconnectionError).
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return
        dialect = engine.dialect
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError(str(exc)) from exc
            raise


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling is switched off so that we emit BEGIN ourselves:
    # BEGIN IMMEDIATE for writes (the write lock is taken before the change stamp is read),
    # plain BEGIN for reads, and nothing at all on connections that manage their own.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get("manual_transaction"):
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get("write") else "BEGIN")


class _WriterLock:
    """The turn to write a SQLite database, taken before BEGIN IMMEDIATE and given back
    after COMMIT, by every thread of every process that writes it through `make_engine`.

    SQLite lets one writer in at a time; a writer that finds the write lock taken waits in
    SQLite's busy handler, which sleeps 1, 2, 5, 10, ... up to 100 ms between tries. Under
    an on-sale's load the lock is then free while its waiters sleep, and the unlucky ones
    sleep for a second or more. Waiting here instead, in the kernel (`flock` on a file next
    to the database, an open file per thread so that threads exclude each other too), a
    waiter is woken the moment the lock is given back: the database writes back to back.
    A process that dies gives its turn back with its files. Writers that do not take it
    (other programs, the sqlite3 shell) still meet SQLite's lock and its busy timeout.

    A route's greenlet on the event loop (green.py) must not wait in the kernel: the whole
    worker would stop while another process writes. The greenlets of a loop's thread share
    an open file of their own (`_LoopTurn`), one of them at a time, in the order they asked;
    the one whose turn it is tries the lock without waiting (`LOCK_NB`) and gives the loop
    half a millisecond between tries (green.pause). It takes the lock only when it runs,
    so it holds it no longer than its transaction: a SQLite write never waits for a socket.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._local = threading.local()

    def held(self) -> AbstractContextManager[None]:
        name, kind = ("loop_turn", _LoopTurn) if green.in_request_greenlet() else ("turn", _Turn)
        turn: _Turn | None = getattr(self._local, name, None)
        if turn is None:
            turn = kind(self._path)
            setattr(self._local, name, turn)
        return turn.held()


class _Turn:
    """A thread's open file of the writers' lock (closed when the thread is gone), and how
    deep the thread is in write transactions: `held` takes the turn (`_take`) unless it
    is the holder's already (`_mine`), and the outermost gives it back (`_give_back`)."""

    def __init__(self, path: str) -> None:
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            # The database cannot be written (its folder gone, say): raised as the driver's
            # connection would raise it, for callers that handle the database's errors.
            raise OperationalError(None, None, exc) from exc
        self.depth = 0
        weakref.finalize(self, os.close, self.fd)

    @contextmanager
    def held(self) -> Iterator[None]:
        if not self._mine():
            self._take()
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            if self.depth == 0:
                self._give_back()

    def _mine(self) -> bool:
        return self.depth > 0

    def _take(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def _give_back(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)


class _LoopTurn(_Turn):
    """The open file of the writers' lock that the route greenlets of an event loop's
    thread share: which greenlet has it (`owner`), and the others waiting for it, first
    come first served, each woken by its future when it is handed the file."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.owner: greenlet.greenlet | None = None
        self.waiting: deque[tuple[greenlet.greenlet, asyncio.Future[object]]] = deque()

    def _mine(self) -> bool:
        return self.owner is greenlet.getcurrent()

    def _take(self) -> None:
        current = greenlet.getcurrent()
        queued: tuple[greenlet.greenlet, asyncio.Future[object]] | None = None
        try:
            if self.owner is None and not self.waiting:
                self.owner = current
            else:
                queued = (current, asyncio.get_running_loop().create_future())
                self.waiting.append(queued)
                green.wait_future(queued[1])  # the greenlet before it makes it the owner
            while True:
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    green.pause()  # another process writes: the loop goes on meanwhile
                else:
                    return
        except BaseException:
            # Thrown into the greenlet (its loop closing), or the lock failing: the file is
            # never left to a greenlet that is not taking it.
            if self.owner is current:
                self._hand_on()
            elif queued is not None:
                self.waiting.remove(queued)
            raise

    def _give_back(self) -> None:
        # The lock first, so that another process's writer may come in between.
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        self._hand_on()

    def _hand_on(self) -> None:
        if self.waiting:
            self.owner, handed = self.waiting.popleft()
            handed.set_result(None)
        else:
            self.owner = None


_writer_locks: "weakref.WeakKeyDictionary[Engine, _WriterLock]" = weakref.WeakKeyDictionary()


def writer_turn(engine: Engine) -> AbstractContextManager[None]:
    """Hold the turn to write (a SQLite database file: `_WriterLock`); nothing otherwise."""
    lock = _writer_locks.get(engine)
    return nullcontext() if lock is None else lock.held()
