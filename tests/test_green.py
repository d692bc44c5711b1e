"""Routes on the event loop in a greenlet (green.py): the waits go to the loop, which serves
others meanwhile; a lock, the bound, a cancelled caller; psycopg's and pgwire's waits on
PostgreSQL; SQLite's writers' turn, waited for with the loop going on; the routes marked
`on_loop` run that way on both."""

import asyncio
import contextvars
import fcntl
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from boxoffice.server import green
from boxoffice.server.db import pgwire
from boxoffice.server.db.engine import autocommit_engine, make_engine, writer_turn
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.exports import service as exports_service
from boxoffice.server.threadpool import on_loop, route_endpoint
from tests.conftest import new_client

_NAME: contextvars.ContextVar[str] = contextvars.ContextVar("test_green_name", default="")


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    left.setblocking(False)
    right.setblocking(False)
    try:
        yield left, right
    finally:
        left.close()
        right.close()


def test_a_function_runs_with_the_callers_context_and_its_outcome() -> None:
    def work(x: int) -> tuple[int, str, bool]:
        return x * 2, _NAME.get(), green.in_request_greenlet()

    async def main() -> tuple[int, str, bool]:
        _NAME.set("caller")
        return await green.run(2, work, 21)

    assert asyncio.run(main()) == (42, "caller", True)
    assert not green.in_request_greenlet()


def test_an_error_is_raised_to_the_caller() -> None:
    def work() -> None:
        raise LookupError("nothing here")

    with pytest.raises(LookupError, match="nothing here"):
        asyncio.run(green.run(2, work))


def test_outside_a_greenlet_wait_socket_leaves_the_wait_to_the_caller(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    assert green.wait_socket(pair[0].fileno(), green.READ) is None


def test_a_wait_lets_the_loop_serve_others_until_the_socket_is_ready(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    left, right = pair
    happened: list[str] = []

    def work() -> bytes:
        happened.append("waits")
        ready = green.wait_socket(left.fileno(), green.READ)
        happened.append(f"ready {ready}")
        return left.recv(10)

    async def other() -> None:
        await asyncio.sleep(0.01)
        happened.append("other runs")
        right.send(b"ping")

    async def main() -> bytes:
        got, _ = await asyncio.gather(green.run(2, work), other())
        return got

    assert asyncio.run(main()) == b"ping"
    assert happened == ["waits", "other runs", f"ready {green.READ}"]


def test_at_most_limit_greenlets_run_at_once_on_a_loop() -> None:
    pairs = [socket.socketpair() for _ in range(6)]
    running = [0]
    most = [0]

    def work(mine: socket.socket) -> None:
        running[0] += 1
        most[0] = max(most[0], running[0])
        green.wait_socket(mine.fileno(), green.READ)
        mine.recv(1)
        running[0] -= 1

    async def feed() -> None:
        for _, theirs in pairs:
            await asyncio.sleep(0.005)
            theirs.send(b"x")

    async def main() -> None:
        await asyncio.gather(*(green.run(2, work, mine) for mine, _ in pairs), feed())

    try:
        asyncio.run(asyncio.wait_for(main(), 30))
    finally:
        for mine, theirs in pairs:
            mine.close()
            theirs.close()
    assert most[0] == 2
    assert running[0] == 0


def test_a_cancelled_caller_waits_for_its_greenlet_to_finish(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    left, right = pair
    finished: list[bytes] = []

    def work() -> None:
        green.wait_socket(left.fileno(), green.READ)
        finished.append(left.recv(10))

    async def main() -> None:
        task = asyncio.create_task(green.run(2, work))
        await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.sleep(0.01)
        assert not task.done()  # still driving its greenlet
        right.send(b"done")
        with pytest.raises(asyncio.CancelledError):
            await task
        assert finished == [b"done"]

    asyncio.run(main())


def test_a_lock_held_across_a_wait_is_waited_for_without_blocking_the_loop(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    left, right = pair
    lock = threading.Lock()
    order: list[str] = []

    def holder() -> None:
        with green.holding(lock):
            order.append("holder has it")
            green.wait_socket(left.fileno(), green.READ)
            left.recv(1)
            order.append("holder lets go")

    def second() -> None:
        with green.holding(lock):
            order.append("second has it")

    async def release_later() -> None:
        await asyncio.sleep(0.02)
        order.append("loop ran")
        right.send(b"x")

    async def main() -> None:
        first = asyncio.create_task(green.run(3, holder))
        await asyncio.sleep(0)
        await asyncio.gather(first, green.run(3, second), release_later())

    asyncio.run(main())
    assert order == ["holder has it", "loop ran", "holder lets go", "second has it"]
    assert not lock.locked()


def test_outside_a_greenlet_holding_takes_the_lock_as_with_does() -> None:
    lock = threading.Lock()
    with green.holding(lock):
        assert lock.locked()
    assert not lock.locked()


def test_on_loop_routes_take_the_engine() -> None:
    def route(x: int) -> int:
        return x

    with pytest.raises(TypeError, match="engine"):
        route_endpoint(on_loop(route))


@pytest.fixture
def pg_engine(database_url: str) -> Iterator[Engine]:
    if not database_url.startswith("postgresql"):
        pytest.skip("the waits on the event loop are PostgreSQL's")
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def test_psycopgs_waits_go_to_the_loop_and_a_lock_held_by_one_greenlet_is_awaited(
    pg_engine: Engine,
) -> None:
    """Two greenlets on one loop want one advisory lock: the second's wait for it is the
    loop's, so the first goes on, lets go, and both finish (a blocking wait in the second
    would stop the loop's thread with the first never resumed). A ticker on the loop runs
    while the first waits."""
    ticks = [0]
    ticked: list[int] = []
    order: list[str] = []
    key = 424242

    def first() -> None:
        with pg_engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            order.append("first locked")
            conn.execute(text("SELECT pg_sleep(0.2)"))
            order.append("first lets go")
            ticked.append(ticks[0])
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()

    def second() -> None:
        with pg_engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            order.append("second locked")
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()

    async def ticker() -> None:
        for _ in range(10):
            await asyncio.sleep(0.01)
            ticks[0] += 1

    async def main() -> None:
        one = asyncio.create_task(green.run(3, first))
        while not order:
            await asyncio.sleep(0.005)
        await asyncio.gather(one, green.run(3, second), ticker())

    asyncio.run(asyncio.wait_for(main(), 30))
    assert order == ["first locked", "first lets go", "second locked"]
    # The ticker ran while the first waited for its sleep (a blocking wait would have
    # finished the first before the ticker started).
    assert ticked[0] >= 1


def test_pgwires_round_trips_wait_on_the_loop(pg_engine: Engine) -> None:
    ticks = [0]
    ticked: list[int] = []

    def work() -> int:
        with autocommit_engine(pg_engine).connect() as conn:
            driver: Any = conn.connection.driver_connection
            statement = pgwire.Statement(b"SELECT 7 FROM pg_sleep(0.1)")
            (outcome,) = pgwire.round_trip(driver, conn.connection.info, [statement])
            ticked.append(ticks[0])
            value: int = outcome.rows[0][0]
            return value

    async def ticker() -> None:
        for _ in range(5):
            await asyncio.sleep(0.01)
            ticks[0] += 1

    async def main() -> int:
        got, _ = await asyncio.gather(green.run(3, work), ticker())
        return got

    assert asyncio.run(main()) == 7
    # The ticker ran during the round trip (a blocking one would end before it starts).
    assert ticked[0] >= 1


def test_marked_routes_run_in_a_greenlet(
    http: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = new_client(engine)
    seen: list[tuple[bool, bool]] = []
    read = exports_service.list_client_types

    def recorded(*args: Any, **kwargs: Any) -> Any:
        seen.append(
            (
                green.in_request_greenlet(),
                threading.current_thread().name.startswith("boxoffice-request"),
            )
        )
        return read(*args, **kwargs)

    monkeypatch.setattr(exports_service, "list_client_types", recorded)
    answer = http.get(f"{client.base}/export/clienttypes", headers=client.auth)
    assert answer.status_code == 200
    assert seen == [(True, False)]


def test_a_write_transaction_in_a_greenlet_commits(pg_engine: Engine) -> None:
    def work() -> int:
        with write_transaction(pg_engine) as tx:
            value: int = tx.conn.execute(text("SELECT 1")).scalar_one()
        return value

    assert asyncio.run(green.run(3, work)) == 1


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'green.db'}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        yield engine
    finally:
        engine.dispose()


def _turn_is_free(engine: Engine) -> bool:
    """Whether a writer of another open file (another thread, another process) would get
    the turn at once."""
    assert engine.url.database is not None
    fd = os.open(f"{engine.url.database}.writers", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_a_sqlite_writer_in_a_greenlet_waits_for_the_turn_with_the_loop_going_on(
    sqlite_engine: Engine,
) -> None:
    """Another thread (as another process would) holds the writers' turn: the greenlet's
    write transaction waits for it without stopping the loop, which goes on ticking, and
    writes once the turn is given back."""
    ticks = [0]
    ticked: list[int] = []
    order: list[str] = []
    holding = threading.Event()

    def other_writer() -> None:
        with writer_turn(sqlite_engine):
            holding.set()
            # Given back once the loop has ticked meanwhile (or after 2 s: a loop stopped
            # by the greenlet's wait never ticks, and the check below fails).
            deadline = time.monotonic() + 2
            while ticks[0] < 5 and time.monotonic() < deadline:
                time.sleep(0.005)
            order.append("other lets go")
            ticked.append(ticks[0])

    def work() -> int:
        with write_transaction(sqlite_engine) as tx:
            order.append("greenlet writes")
            tx.conn.execute(text("INSERT INTO t VALUES (1)"))
        return len(order)

    async def ticker() -> None:
        while not order:
            await asyncio.sleep(0.002)
            ticks[0] += 1

    async def main() -> int:
        thread = threading.Thread(target=other_writer)
        thread.start()
        await asyncio.to_thread(holding.wait)
        try:
            got, _ = await asyncio.gather(green.run(4, work), ticker())
        finally:
            await asyncio.to_thread(thread.join)
        return got

    assert asyncio.run(asyncio.wait_for(main(), 30)) == 2
    assert order == ["other lets go", "greenlet writes"]
    assert ticked[0] >= 5  # the loop ran while the greenlet waited for the turn
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    assert _turn_is_free(sqlite_engine)


def test_the_greenlets_of_a_loop_hold_the_sqlite_turn_one_at_a_time_in_order(
    sqlite_engine: Engine, pair: tuple[socket.socket, socket.socket]
) -> None:
    """Greenlets share their loop thread's open file of the lock, so the kernel cannot
    keep them apart: the first holds the turn across a wait of the loop's (no SQLite
    write does; this stands for any), and the others wait in the order they asked, then
    each holds it alone. Other threads are kept out all along, and the turn is free after."""
    left, right = pair
    events: list[str] = []
    free_seen: list[bool] = []

    def first() -> None:
        with writer_turn(sqlite_engine):
            events.append("first in")
            with writer_turn(sqlite_engine):  # the same greenlet again: no wait
                green.wait_socket(left.fileno(), green.READ)
                left.recv(1)
            free_seen.append(_turn_is_free(sqlite_engine))
            events.append("first out")

    def later(name: str) -> None:
        with writer_turn(sqlite_engine):
            events.append(f"{name} in")
            free_seen.append(_turn_is_free(sqlite_engine))
            events.append(f"{name} out")

    async def main() -> None:
        tasks = [asyncio.create_task(green.run(4, first))]
        await asyncio.sleep(0.005)
        for name in ("second", "third"):
            tasks.append(asyncio.create_task(green.run(4, later, name)))
            await asyncio.sleep(0.005)
        while_first_waits.extend(events)
        free_seen.append(_turn_is_free(sqlite_engine))
        right.send(b"x")
        await asyncio.gather(*tasks)

    while_first_waits: list[str] = []
    asyncio.run(asyncio.wait_for(main(), 30))
    assert while_first_waits == ["first in"]
    assert events == ["first in", "first out", "second in", "second out", "third in", "third out"]
    assert free_seen == [False, False, False, False]
    assert _turn_is_free(sqlite_engine)


def test_on_sqlite_a_read_goes_on_while_more_writers_than_threads_wait_for_the_turn(
    app: FastAPI, engine: Engine
) -> None:
    """Another process (a thread here) holds SQLite's writers' turn, as the CLI loading a
    catalog would: eight new carts, more than a worker's request threads, wait for it
    without a connection each, and a read of the same worker is answered meanwhile. Once
    the turn is given back every cart is made."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the writers' turn is SQLite's")
    client = new_client(engine)
    holding = threading.Event()
    let_go = threading.Event()
    let_gone = threading.Event()

    def other_writer() -> None:
        with writer_turn(engine):
            holding.set()
            let_go.wait(5)  # a read that never comes fails the check below, not the run
        let_gone.set()

    async def main() -> tuple[list[int], int, bool]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            carts = [
                asyncio.create_task(http.post(f"{client.base}/cart", headers=client.auth))
                for _ in range(8)
            ]
            await asyncio.sleep(0.2)  # every cart's request is waiting for the turn now
            read = await http.get(f"{client.base}/export/clienttypes", headers=client.auth)
            read_while_held = not let_gone.is_set()
            let_go.set()
            made = await asyncio.gather(*carts)
        return [answer.status_code for answer in made], read.status_code, read_while_held

    thread = threading.Thread(target=other_writer)
    thread.start()
    holding.wait()
    try:
        made, read, read_while_held = asyncio.run(asyncio.wait_for(main(), 30))
    finally:
        let_go.set()
        thread.join()
    assert read == 200 and read_while_held
    assert made == [201] * 8
