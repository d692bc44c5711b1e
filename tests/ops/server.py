"""`boxoffice serve` as a real process on 127.0.0.1, for tests of sockets, signals and workers."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

# Bounds, not expectations: a healthy run takes a small fraction of each. Starting two
# worker processes on a busy two-core machine has been seen to take over a minute.
STARTUP_SECONDS = 180
SHUTDOWN_SECONDS = 60


@dataclass
class Server:
    process: "subprocess.Popen[bytes]"
    port: int
    log_path: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=SHUTDOWN_SECONDS)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def log_lines(self) -> list[dict[str, Any]]:
        """Every stderr line, each of which must be one JSON object."""
        return [json.loads(line) for line in self.log_text().splitlines() if line.strip()]

    def wait_until_not_listening(self) -> None:
        deadline = time.monotonic() + SHUTDOWN_SECONDS
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                return
            time.sleep(0.02)
        raise AssertionError("the server kept accepting connections")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(database_url: str, workdir: Path, *args: str, **env: str) -> Iterator[Server]:
    """Start the server, wait until /readyz answers 200, and stop it (SIGTERM) at the end."""
    port = _free_port()
    log_path = workdir / "server.log"
    environment = {
        **os.environ,
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_LOG_LEVEL": "info",
        **env,
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "boxoffice.cli", "serve", "--port", str(port), *args]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    server = Server(process=process, port=port, log_path=log_path)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=SHUTDOWN_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"the server exited early:\n{server.log_text()}")
        try:
            if httpx.get(server.url("/readyz"), timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the server did not become ready:\n{server.log_text()}")


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def read_to_end(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def body_of(response: bytes) -> bytes:
    return response.split(b"\r\n\r\n", 1)[1]
