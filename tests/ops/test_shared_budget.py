"""The shared request budget: leased from the database in slices, never past the limit."""

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from boxoffice.server.db.engine import make_engine
from boxoffice.server.ops import ratelimit, repository
from boxoffice.server.ops.budgets import SharedBudget, lease_size
from boxoffice.server.ops.ratelimit import SharedLimitMiddleware
from boxoffice.server.ops.tables import rate_limit_windows
from tests.ops.conftest import ManualClock

MINUTE = 60_000_000


def identity(name: str) -> str:
    """An identity of this test's own (the table is shared by every test of the database)."""
    return f"{name}-{threading.get_ident()}-{id(object())}"


def rows_of(engine: Engine, who: str) -> list[tuple[int, int]]:
    """(window_start_at, granted) of every window row of `who`."""
    table = rate_limit_windows
    stmt = (
        select(table.c.window_start_at, table.c.granted)
        .where(table.c.identity == who)
        .order_by(table.c.window_start_at)
    )
    with engine.connect() as conn:
        return [(row[0], row[1]) for row in conn.execute(stmt)]


@pytest.fixture
def second_engine(database_url: str) -> Iterator[Engine]:
    """Another process's connection pool on the same database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_lease_sizes() -> None:
    assert [lease_size(n) for n in (1, 19, 20, 100, 600, 1000, 60_000)] == [1, 1, 1, 5, 30, 50, 50]


def test_a_lease_grants_slices_and_never_more_than_the_limit(engine: Engine) -> None:
    who = identity("lease")
    grants = []
    with engine.begin() as conn:
        for _ in range(5):
            grants.append(
                repository.lease(
                    conn,
                    budget="test",
                    identity=who,
                    window_start_at=0,
                    window_end_at=MINUTE,
                    limit=7,
                    size=3,
                )
            )
    assert grants == [(3, 3), (3, 6), (1, 7), (0, 7), (0, 7)]


def test_two_workers_with_many_threads_admit_at_most_the_limit(
    engine: Engine, second_engine: Engine
) -> None:
    limit, threads, each = 400, 8, 80
    clock = ManualClock()
    workers = [
        SharedBudget(engine, name="test", window_seconds=60, clock=clock),
        SharedBudget(second_engine, name="test", window_seconds=60, clock=clock),
    ]
    who = identity("threads")
    leases = Counter[str]()

    def count_leases(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO RATE_LIMIT_WINDOWS"):
            leases["lease"] += 1

    for worker in workers:
        event.listen(worker.engine, "before_cursor_execute", count_leases)
    admitted = Counter[bool]()
    lock = threading.Lock()

    def spend(budget: SharedBudget) -> None:
        for _ in range(each):
            allowance = budget.take_local(who, limit) or budget.take(who, limit)
            with lock:
                admitted[allowance.allowed] += 1

    running = [threading.Thread(target=spend, args=(workers[n % 2],)) for n in range(threads)]
    try:
        for thread in running:
            thread.start()
        for thread in running:
            thread.join()
    finally:
        for worker in workers:
            event.remove(worker.engine, "before_cursor_execute", count_leases)
    # Never past the limit; short of it by at most what the other worker leased and did not
    # spend (it may have been refused first): (workers - 1) x (lease - 1).
    slack = lease_size(limit) - 1
    assert limit - slack <= admitted[True] <= limit
    assert admitted[True] + admitted[False] == threads * each
    assert rows_of(engine, who) == [(clock() - clock() % MINUTE, limit)]
    # The database was asked once a slice (20 requests), not once a request.
    assert leases["lease"] <= limit // lease_size(limit) + len(workers)


def test_a_new_window_starts_afresh(engine: Engine) -> None:
    clock = ManualClock(1_000_000_040.5)  # 39.5 s before its minute ends
    budget = SharedBudget(engine, name="test", window_seconds=60, clock=clock)
    who = identity("rollover")
    first, second, third = (budget.take(who, 2) for _ in range(3))
    assert (first.allowed, first.remaining, first.reset_seconds) == (True, 1, 40)
    assert (second.allowed, second.remaining) == (True, 0)
    assert (third.allowed, third.remaining, third.reset_seconds) == (False, 0, 40)
    assert third.headers()["Retry-After"] == "40"
    clock.advance(39)
    assert budget.take(who, 2).reset_seconds == 1
    assert not budget.take_local(who, 2).allowed  # type: ignore[union-attr]
    clock.advance(1)
    assert budget.take_local(who, 2) is None  # a new window: the database is asked again
    later = budget.take(who, 2)
    assert (later.allowed, later.remaining, later.reset_seconds) == (True, 1, 60)
    # The ended window's row went with the new window's first lease.
    assert rows_of(engine, who) == [(clock() - clock() % MINUTE, 1)]


def test_a_changed_limit_applies_from_the_next_request(engine: Engine) -> None:
    budget = SharedBudget(engine, name="test", window_seconds=60, clock=ManualClock())
    who = identity("changed")
    assert [budget.take(who, 2).allowed for _ in range(3)] == [True, True, False]
    # Raised: what was granted in the window still counts.
    assert [budget.take(who, 4).allowed for _ in range(3)] == [True, True, False]
    assert budget.take(who, 4).remaining == 0


def test_ended_windows_are_deleted_as_new_windows_open(engine: Engine) -> None:
    clock = ManualClock()
    budget = SharedBudget(engine, name="test", window_seconds=60, clock=clock)
    old, new = identity("old"), identity("new")
    budget.take(old, 5)
    assert len(rows_of(engine, old)) == 1
    clock.advance(60)
    budget.take(new, 5)
    assert rows_of(engine, old) == []
    assert len(rows_of(engine, new)) == 1
    # And on its own: nothing of a window that has not ended goes.
    with engine.begin() as conn:
        assert repository.delete_ended_windows(conn, now=clock()) == 0
        left = conn.execute(
            select(func.count())
            .select_from(rate_limit_windows)
            .where(rate_limit_windows.c.window_end_at <= clock())
        ).scalar_one()
    assert left == 0
    assert len(rows_of(engine, new)) == 1


def test_a_request_goes_on_uncounted_when_the_database_cannot_lease(tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = make_engine(f"sqlite:///{tmp_path}/missing/folder/x.db")
    budget = SharedBudget(broken, name="test", window_seconds=60)
    app = Starlette(routes=[Route("/", lambda _request: PlainTextResponse("ok"))])
    limited = SharedLimitMiddleware(app, budget=budget, identify=lambda _scope: ("someone", 1))
    with TestClient(limited) as http:
        for _ in range(3):
            response = http.get("/")
            assert response.status_code == 200
            assert "ratelimit-limit" not in response.headers
    broken.dispose()


def test_an_outage_warns_once_a_minute_with_the_count_not_once_a_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock[0])
    broken = make_engine(f"sqlite:///{tmp_path}/missing/folder/x.db")
    budget = SharedBudget(broken, name="outage", window_seconds=60)
    app = Starlette(routes=[Route("/", lambda _request: PlainTextResponse("ok"))])
    limited = SharedLimitMiddleware(app, budget=budget, identify=lambda _scope: ("someone", 1))
    caplog.set_level(logging.WARNING, logger="boxoffice.ratelimit")

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "boxoffice.ratelimit"]

    with TestClient(limited) as http:
        for _ in range(5):
            assert http.get("/").status_code == 200
        assert len(warnings()) == 1
        clock[0] += ratelimit.UNCOUNTED_WARNING_SECONDS
        assert http.get("/").status_code == 200
    broken.dispose()
    first, second = warnings()
    assert first.startswith("outage rate limit not counted") and "(1 request(s)" in first
    # The second names the four requests it said nothing of, and itself.
    assert "(5 request(s) uncounted since the last warning)" in second
