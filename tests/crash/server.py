"""`boxoffice serve` as a process that can be killed outright (SIGKILL) and started again."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

# Bounds, not expectations: a healthy start takes a few seconds.
STARTUP_SECONDS = 90
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Killable:
    """One `boxoffice serve` process group on 127.0.0.1, started and killed on demand."""

    def __init__(self, database_url: str, log_path: Path, workers: int = 1) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> str:
        assert self.process is None, "already running"
        port = free_port()
        env = {
            **os.environ,
            "BOXOFFICE_DATABASE_URL": self.database_url,
            "BOXOFFICE_RATE_LIMIT_PER_MINUTE": "0",
            "BOXOFFICE_AUTH_FAILURE_LIMIT_PER_MINUTE": "0",
            "BOXOFFICE_LOG_LEVEL": "warning",
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        command = [sys.executable, "-m", "boxoffice.cli", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--workers", str(self.workers)]
        with self.log_path.open("ab") as log:
            # Its own process group, so that one signal reaches the supervisor and its workers.
            self.process = subprocess.Popen(
                command,
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.url = f"http://127.0.0.1:{port}"
        self._wait_until_ready()
        return self.url

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited early:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the server did not become ready:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown, no cleanup, as in a power cut."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@contextmanager
def killable_server(database_url: str, log_path: Path, workers: int = 1) -> Iterator[Killable]:
    """A Killable that is always killed at the end, whatever happened."""
    server = Killable(database_url, log_path, workers)
    try:
        yield server
    finally:
        server.kill()
