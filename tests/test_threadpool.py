"""The request path's thread pool: as many threads as suit the app's database, never more."""

import asyncio
import sys
import threading

from fastapi import FastAPI
from sqlalchemy import Engine

from boxoffice.server.threadpool import (
    DEFAULT_SWITCH_INTERVAL,
    SWITCH_INTERVALS,
    THREADS,
    pool_threads,
    run_in_thread,
    size_for,
)


def test_an_app_runs_requests_in_as_many_threads_as_suit_its_database(
    app: FastAPI, engine: Engine
) -> None:
    """create_app sizes the pool for its database (threadpool.THREADS: few, as every
    thread with work competes with the one holding an event's or the database's lock),
    and no more than that many calls run at once: the first that many meet, the rest
    wait."""
    threads = THREADS[engine.dialect.name]
    assert pool_threads() == threads
    lock, all_in = threading.Lock(), threading.Event()
    running = peak = 0

    def work() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            if running == threads:
                all_in.set()
        assert all_in.wait(timeout=30), "the pool never ran its threads at once"
        with lock:
            running -= 1

    async def calls() -> None:
        await asyncio.gather(*(run_in_thread(work) for _ in range(threads + 5)))

    asyncio.run(calls())
    assert peak == threads


def test_an_app_switches_between_threads_as_often_as_suits_its_database(
    app: FastAPI, engine: Engine
) -> None:
    """create_app sets how long a thread may run Python while others wait for the
    interpreter (threadpool.SWITCH_INTERVALS: 1 ms on PostgreSQL, where the thread holding
    an event's lock waits for the interpreter after each round trip; Python's 5 ms on
    SQLite), and an app of the other database sets its own."""
    expected = SWITCH_INTERVALS.get(engine.dialect.name, DEFAULT_SWITCH_INTERVAL)
    assert sys.getswitchinterval() == expected
    other = "sqlite" if engine.dialect.name == "postgresql" else "postgresql"
    try:
        size_for(other)
        assert sys.getswitchinterval() == SWITCH_INTERVALS.get(other, DEFAULT_SWITCH_INTERVAL)
        assert sys.getswitchinterval() != expected
    finally:
        size_for(engine.dialect.name)
    assert sys.getswitchinterval() == expected
