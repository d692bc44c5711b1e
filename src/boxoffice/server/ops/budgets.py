"""Request budgets: one look at a budget (Allowance), counted in this worker's memory (Budget)
or shared by every worker and server on one database, leased in slices (SharedBudget)."""

import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from boxoffice.server import green
from boxoffice.server.db.engine import autocommit_engine, is_sqlite
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.ops import repository
from boxoffice.server.values.clock import Clock, now_micros

log = logging.getLogger("boxoffice.ratelimit")


@dataclass(frozen=True, slots=True)
class Allowance:
    """One look at a budget: whether the request may go on, and the RateLimit-* headers."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


class Budget:
    """At most `amount` events in any `period_seconds` for each identity, in this process.

    A moving window: each event is remembered (about 200 bytes) until it is `period_seconds`
    old, so there is no burst at window edges and the answers do not depend on when a minute
    starts. Memory is bounded by identities x amount; idle identities expire by themselves.
    """

    def __init__(self, amount: int, *, period_seconds: int = 60) -> None:
        self.item = RateLimitItemPerSecond(amount, period_seconds)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, identity: str) -> Allowance:
        """Spend one unit if there is one left."""
        return self._allowance(identity, self.limiter.hit(self.item, identity))

    def check(self, identity: str) -> Allowance:
        """Whether one unit is left, spending nothing."""
        return self._allowance(identity, self.allows(identity))

    def allows(self, identity: str) -> bool:
        """Whether one unit is left, spending nothing; a third of `check`'s cost, which also
        reads the window for the RateLimit-* headers."""
        return self.limiter.test(self.item, identity)

    def _allowance(self, identity: str, allowed: bool) -> Allowance:
        stats = self.limiter.get_window_stats(self.item, identity)
        # Seconds until the budget grows again; at least 1, so Retry-After never says "now".
        reset = max(1, math.ceil(stats.reset_time - time.time()))
        return Allowance(allowed, self.item.amount, max(0, stats.remaining), reset)


_MICROS = 1_000_000
# The identity column's width; longer identities (never seen in practice) are cut, not refused.
_IDENTITY_LENGTH = 64
# A lease is a twentieth of the limit, at most 50 units: one database write per 50 requests
# at most, and little left unused when a window ends (docs/operations.md, Rate limits).
LEASE_FRACTION = 20
MAX_LEASE = 50


def lease_size(limit: int) -> int:
    """How many units a worker leases at a time for a budget of `limit` a window."""
    return max(1, min(limit // LEASE_FRACTION, MAX_LEASE))


@dataclass(slots=True)
class _Slice:
    """This worker's part of one identity's budget in the current window."""

    limit: int
    # Units leased to this worker and not spent yet.
    units: int = 0
    # What the database had left to lease after this worker's last lease (the limit, before
    # the first): with `units`, what this worker knows to be left of the window's budget.
    unleased: int = 0
    # Held while this worker leases for the identity, so that it leases one slice at a time.
    leasing: threading.Lock = field(default_factory=threading.Lock)


class SharedBudget:
    """At most `limit` requests per identity per fixed window of `window_seconds`, counted
    once for every worker process and every server on the database.

    The count lives in the table `rate_limit_windows`, but a request does not write it: a
    worker leases a slice of the window's budget (`lease_size`) with one atomic statement and
    serves the next requests from the slice in memory, leasing again when it is spent. The
    database never grants more than the limit in a window, so the deployment never admits
    more; units leased and unspent when the window ends are lost, so a worker may refuse a
    little early (at most `(workers - 1) x (lease - 1)` requests a window), never late.
    """

    def __init__(
        self, engine: Engine, *, name: str, window_seconds: int, clock: Clock = now_micros
    ) -> None:
        self.engine = engine
        self.name = name
        self.window_micros = window_seconds * _MICROS
        self.clock = clock
        self._lock = threading.Lock()
        self._slices: dict[str, _Slice] = {}
        self._window_start = -1
        # The window in which this worker last deleted the rows of ended windows.
        self._swept = -1

    def take_local(self, identity: str, limit: int) -> Allowance | None:
        """Spend one unit from this worker's slice, or refuse when the window's budget is
        known to be spent; None when that takes a lease (`take`). Never waits."""
        now = self.clock()
        start = now - now % self.window_micros
        with self._lock:
            return self._take(self._slice(identity, limit, start), now, start)

    def take(self, identity: str, limit: int) -> Allowance:
        """Spend one unit, leasing a slice from the database when this worker's is spent.

        It waits for the database: call it from a worker thread. A database error is raised
        (SQLAlchemyError): the caller decides what an uncounted request gets.
        """
        now = self.clock()
        start = now - now % self.window_micros
        with self._lock:
            found = self._slice(identity, limit, start)
            allowance = self._take(found, now, start)
        if allowance is not None:
            return allowance
        with green.holding(found.leasing):
            # Another request of this worker may have leased while this one waited (a
            # route on the event loop waits for the lease without blocking the loop).
            with self._lock:
                allowance = self._take(found, now, start)
            if allowance is not None:
                return allowance
            granted, total = self._lease(identity, limit, start)
            with self._lock:
                found.units += granted
                found.unleased = max(0, limit - total)
                allowance = self._take(found, now, start)
        self._sweep(now, start)
        # A lease of nothing leaves nothing to lease: _take refuses then, never returns None.
        assert allowance is not None
        return allowance

    def _slice(self, identity: str, limit: int, start: int) -> _Slice:
        if start != self._window_start:
            # A new window: every slice of the last one is void (its unspent units are lost).
            self._slices.clear()
            self._window_start = start
        found = self._slices.get(identity)
        if found is None or found.limit != limit:
            # First request in the window, or the key's limit changed: ask the database.
            found = _Slice(limit=limit, unleased=limit)
            self._slices[identity] = found
        return found

    def _take(self, found: _Slice, now: int, start: int) -> Allowance | None:
        # Seconds until the window ends; at least 1, so Retry-After never says "now".
        reset = max(1, math.ceil((start + self.window_micros - now) / _MICROS))
        if found.units > 0:
            found.units -= 1
            return Allowance(True, found.limit, found.units + found.unleased, reset)
        if found.unleased == 0:
            return Allowance(False, found.limit, 0, reset)
        return None

    @contextmanager
    def _one_statement(self) -> Iterator[Connection]:
        """A connection for one statement (a lease, a sweep: each atomic by itself), outside
        the request's transaction. On PostgreSQL in autocommit: no BEGIN and COMMIT, two
        round trips fewer. On SQLite in BEGIN IMMEDIATE (the write lock at once, never
        upgraded, in its turn with the other writers: a `write_transaction`), which costs
        less CPU there than switching a connection to autocommit and back (0.2 ms against
        0.3 ms a lease, bench/ratelimit_cost.py)."""
        if is_sqlite(self.engine):
            with write_transaction(self.engine) as tx:
                yield tx.conn
            return
        with autocommit_engine(self.engine).connect() as raw:
            yield raw.execution_options(manual_transaction=True)

    def _lease(self, identity: str, limit: int, start: int) -> tuple[int, int]:
        with self._one_statement() as conn:
            return repository.lease(
                conn,
                budget=self.name,
                identity=identity[:_IDENTITY_LENGTH],
                window_start_at=start,
                window_end_at=start + self.window_micros,
                limit=limit,
                size=lease_size(limit),
            )

    def _sweep(self, now: int, start: int) -> None:
        """Once per window and worker, delete the rows of ended windows: the table holds
        about one row per identity active in the current window."""
        if self._swept == start:
            return
        self._swept = start
        try:
            with self._one_statement() as conn:
                repository.delete_ended_windows(conn, now=now)
        except SQLAlchemyError:
            # Not the request's business: the next window's first lease sweeps again.
            log.warning("rate limit windows not swept", exc_info=True)
