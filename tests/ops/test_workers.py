"""`serve --workers N`: a listening socket per worker, so that connections spread over them."""

import errno
import multiprocessing
import multiprocessing.synchronize
import os
import socket
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import uvicorn
from uvicorn.config import STARTUP_FAILURE

from boxoffice.server.db.engine import make_engine
from boxoffice.server.db.migrate import upgrade
from boxoffice.server.ops import workers
from boxoffice.server.ops.serve import APP
from boxoffice.server.ops.workers import (
    WorkerSockets,
    claim_socket,
    listening_sockets,
    run_workers,
)
from tests.ops.server import STARTUP_SECONDS, serve


@pytest.fixture
def claims(tmp_path: Path) -> Iterator[Path]:
    """A claims directory; the claims this process takes are released afterwards."""
    held = len(workers._CLAIM)
    yield tmp_path
    while len(workers._CLAIM) > held:
        os.close(workers._CLAIM.pop())


def test_the_sockets_share_one_address_that_stays_refused_to_other_servers() -> None:
    sockets = listening_sockets("127.0.0.1", 0, 3)
    try:
        ports = {sock.getsockname()[1] for sock in sockets}
        assert len(ports) == 1
        for sock in sockets:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
            sock.listen()
        [port] = ports
        # A server started on the same address fails, as with one socket, instead of
        # joining these and taking a share of their connections.
        with pytest.raises(OSError) as refused:
            listening_sockets("127.0.0.1", port, 2)
        assert refused.value.errno == errno.EADDRINUSE
    finally:
        for sock in sockets:
            sock.close()


def test_an_address_in_use_is_a_startup_failure_as_with_one_socket(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # log_config None: this process's logging is left as it is (caplog sees the error).
        config = uvicorn.Config(
            APP, factory=True, host="127.0.0.1", port=port, workers=2, log_config=None
        )
        with pytest.raises(SystemExit) as failed:
            run_workers(config, Path("/nonexistent"))
    assert failed.value.code == STARTUP_FAILURE
    assert "Address already in use" in caplog.text


def test_each_claim_takes_the_first_free_socket_and_closes_the_others(claims: Path) -> None:
    sockets = listening_sockets("127.0.0.1", 0, 2)
    try:
        first = claim_socket([s.dup() for s in sockets], str(claims))
        second_copies = [s.dup() for s in sockets]
        second = claim_socket(second_copies, str(claims))
        assert len(first) == len(second) == 1
        assert second == [second_copies[1]]
        assert second_copies[0].fileno() == -1  # closed: not this worker's
        # Every socket claimed (a restart's new worker before the old one stops): all.
        third = [s.dup() for s in sockets]
        assert claim_socket(third, str(claims)) == third
        # A worker that exits releases its claim: its replacement takes its socket.
        os.close(workers._CLAIM.pop(-2))
        again = [s.dup() for s in sockets]
        assert claim_socket(again, str(claims)) == [again[0]]
        for sock in [*first, *second, *third, again[0]]:
            sock.close()
    finally:
        for sock in sockets:
            sock.close()


def _report(
    sockets: list[socket.socket],
    queue: "multiprocessing.Queue[object]",
    done: "multiprocessing.synchronize.Event",
) -> None:
    """In a spawned worker: what it was handed (the sockets, as unpickled) and the socket
    it claimed; it stays (holding its claim) until `done`."""
    [lock] = workers._CLAIM
    claimed = Path(os.readlink(f"/proc/self/fd/{lock}")).name
    queue.put(([(sock.fileno() >= 0, sock.getsockname()[1]) for sock in sockets], claimed))
    done.wait(STARTUP_SECONDS)


def test_spawned_workers_each_get_the_one_socket_they_claim(claims: Path) -> None:
    """uvicorn's supervisor spawns each worker with the socket list pickled: unpickled in
    the worker, the list is the socket that worker claims, and two workers claim two."""
    sockets = listening_sockets("127.0.0.1", 0, 2)
    port = sockets[0].getsockname()[1]
    spawn = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[object] = spawn.Queue()
    done = spawn.Event()
    children = [
        spawn.Process(target=_report, args=(WorkerSockets(sockets, claims), queue, done))
        for _ in range(2)
    ]
    try:
        for child in children:
            child.start()
        handed = [queue.get(timeout=STARTUP_SECONDS) for _ in children]
    finally:
        done.set()
        for child in children:
            child.join(timeout=STARTUP_SECONDS)
        for sock in sockets:
            sock.close()
    assert sorted(handed, key=str) == [
        ([(True, port)], "socket-0.lock"),
        ([(True, port)], "socket-1.lock"),
    ]


def _listening(pid: int, port: int) -> list[str]:
    """The listening sockets a process holds on `port`, as the kernel names them."""
    found = []
    for conn in psutil.Process(pid).net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port:
            found.append(os.readlink(f"/proc/{pid}/fd/{conn.fd}"))
    return found


@pytest.mark.skipif(not workers.SPREADS_CONNECTIONS, reason="the workers share one socket here")
def test_two_workers_listen_on_sockets_of_their_own_and_both_take_connections(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'spread.db'}"
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    with serve(database_url, tmp_path, "--workers", "2") as server:
        deadline = time.monotonic() + STARTUP_SECONDS
        while server.log_text().count("Application startup complete") < 2:
            assert time.monotonic() < deadline, server.log_text()
            time.sleep(0.1)
        pids = [p.pid for p in psutil.Process(server.process.pid).children()]
        listening = {pid: _listening(pid, server.port) for pid in pids}
        serving = {pid: found for pid, found in listening.items() if found}
        assert len(serving) == 2, listening
        assert all(len(found) == 1 for found in serving.values()), serving
        [first], [second] = serving.values()
        assert first != second  # two sockets, not one shared
        # 16 keep-alive connections opened together: the kernel spreads them over the two
        # sockets (by a hash of their ports: all 16 on one worker has odds of 2 in 65,536).
        clients = [httpx.Client(base_url=server.url("")) for _ in range(16)]
        try:
            for client in clients:
                assert client.get("/healthz").is_success
            owners: Counter[int] = Counter()
            for pid in serving:
                for conn in psutil.Process(pid).net_connections(kind="tcp"):
                    if conn.status == psutil.CONN_ESTABLISHED and conn.laddr.port == server.port:
                        owners[pid] += 1
        finally:
            for client in clients:
                client.close()
        assert sum(owners.values()) == 16
        assert len(owners) == 2, owners
