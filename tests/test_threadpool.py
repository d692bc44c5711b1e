"""The request path's thread pool: as many threads as suit the app's database, never more."""

import asyncio
import threading

from fastapi import FastAPI
from sqlalchemy import Engine

from boxoffice.server.threadpool import THREADS, pool_threads, run_in_thread


def test_an_app_runs_requests_in_as_many_threads_as_suit_its_database(
    app: FastAPI, engine: Engine
) -> None:
    """create_app sizes the pool for its database (threadpool.THREADS: fewer on PostgreSQL,
    where every thread with work competes with the one holding an event's lock), and no
    more than that many calls run at once: the first that many meet, the rest wait."""
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
