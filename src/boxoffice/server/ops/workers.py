"""`boxoffice serve --workers N`: a listening socket per worker, so that connections spread.

uvicorn's workers share one listening socket, and a worker woken for it accepts every
connection waiting (its event loop accepts until none is left). Keep-alive clients that
connect at about the same time (a shop's backend with a pool of connections, a proxy's
upstream pool, a load test) then land mostly on one worker, and stay there: under
`make onsale` (32 buyers) one worker used 22 s of CPU and the other 2 s while they sold a
hall, one core busy and the other idle.

Here each worker listens on a socket of its own, all bound to the same address with
SO_REUSEPORT, and the kernel spreads new connections over the listening ones (by a hash of
each connection's addresses and ports). uvicorn's supervisor still starts, watches and
restarts the workers: it hands every worker it spawns the list of sockets (pickled), and
that list, unpickled in the worker, becomes the one socket the worker claims: the first
whose lock file no live worker holds (flock, released when the worker exits, so that a
restarted worker takes its place). A worker that finds every socket claimed (a restart on
SIGHUP starts each new worker before its old one stops) serves them all, as every worker
serves uvicorn's shared socket.

While a worker is down its socket keeps listening (the supervisor holds it): the
connections the kernel gives it wait for the worker that replaces it.
"""

import fcntl
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

logger = logging.getLogger("uvicorn.error")

# Linux spreads new connections over the listening sockets of one SO_REUSEPORT group;
# macOS and the BSDs give them all to one of the sockets, so there the workers share
# uvicorn's one socket instead.
SPREADS_CONNECTIONS = sys.platform.startswith("linux")

# This worker's claim (the open lock file) for as long as it lives.
_CLAIM: list[int] = []


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` sockets bound to (host, port) with SO_REUSEPORT (port 0: a free port, the
    same for all). The address is first bound without SO_REUSEPORT, so that a server
    already listening there is an error (EADDRINUSE), as with one socket, and never a
    server that silently shares its connections with this one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        port = probe.getsockname()[1]
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class WorkerSockets(list[socket.socket]):
    """The workers' sockets, as uvicorn's supervisor hands them to each worker: unpickled
    in a worker, the list of the one socket it claims (claim_socket)."""

    def __init__(self, sockets: list[socket.socket], claims: Path) -> None:
        super().__init__(sockets)
        self.claims = claims

    def __reduce__(self) -> tuple[Any, ...]:
        return (claim_socket, (list(self), str(self.claims)))


def claim_socket(sockets: list[socket.socket], claims: str) -> list[socket.socket]:
    """The first socket whose lock file (in `claims`) this process can lock, alone in a
    list, the others closed here; every socket when all are claimed."""
    for index, sock in enumerate(sockets):
        lock = os.open(os.path.join(claims, f"socket-{index}.lock"), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(lock)
            continue
        _CLAIM.append(lock)
        for other in sockets:
            if other is not sock:
                other.close()
        return [sock]
    return sockets


def run_workers(config: uvicorn.Config, claims: Path) -> None:
    """uvicorn's supervisor with `config.workers` workers, a socket each. An address that
    cannot be bound (in use, not this machine's) is logged and exits with uvicorn's
    startup-failure status, as uvicorn's own bind does."""
    try:
        sockets = listening_sockets(config.host, config.port, config.workers)
    except OSError as exc:
        logger.error(exc)
        sys.exit(STARTUP_FAILURE)
    try:
        port = sockets[0].getsockname()[1]
        logger.info("Uvicorn running on http://%s:%d (Press CTRL+C to quit)", config.host, port)
        logger.info("A listening socket per worker (SO_REUSEPORT): %d", config.workers)
        Multiprocess(config, sockets=WorkerSockets(sockets, claims)).run()
    finally:
        for sock in sockets:
            sock.close()
