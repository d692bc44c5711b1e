"""What the soak, load and benchmark harnesses share: scratch databases and a real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import psycopg
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = os.environ.get(
    "BOXOFFICE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
STARTUP_SECONDS = 120


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmark's server on `database_url`: this one's, the rate
    limits off (a benchmark's load is one key's), each server's metrics in a directory of
    its own (`serve` makes one when none is set), and `extra` (BOXOFFICE_* settings)."""
    env = {
        **os.environ,
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_RATE_LIMIT_PER_MINUTE": "0",
        "BOXOFFICE_AUTH_FAILURE_LIMIT_PER_MINUTE": "0",
        **extra,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    """The CPU seconds (user and system) each process has used, by pid, those gone left
    out."""
    out = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        out[process.pid] = times.user + times.system
    return out


def total_cpu_seconds(processes: list[psutil.Process]) -> float:
    """`cpu_seconds` of the processes added up."""
    return sum(cpu_seconds(processes).values())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def boxoffice(env: dict[str, str], *args: str) -> str:
    """Run a `boxoffice` command and return its standard output."""
    result = subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return result.stdout


class Scratch:
    """A fresh database of either kind (`sqlite` or `postgresql`), removed afterwards.

    The PostgreSQL database is `<name>_<pid>`: two benchmarks running at once (say two
    checkouts measured side by side) never drop each other's database."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = f"{name}_{os.getpid()}"
        self.url = ""
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Scratch:
        if self.kind == "sqlite":
            self._tmp = tempfile.TemporaryDirectory(prefix=f"{self.name}-")
            self.url = f"sqlite:///{self._tmp.name}/{self.name}.db"
        else:
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=10) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{self.name}"')
            # The database's name replaced, any query kept (`?host=/var/run/postgresql`:
            # PostgreSQL's Unix socket; written quoted, as libpq reads it too).
            url = make_url(POSTGRES_ADMIN_URL).set(database=self.name)
            self.url = url.render_as_string(hide_password=False)
        return self

    def __exit__(self, *_: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
        else:
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Server:
    """`boxoffice serve --workers N` on 127.0.0.1, ready on enter, stopped on exit."""

    def __init__(self, env: dict[str, str], workers: int, log: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "boxoffice.cli", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--workers", str(workers)]
        # The server's own lines (access log, tracebacks) go to `log` when given.
        output = log.open("ab") if log is not None else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                command,
                env=env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
            )
        finally:
            if log is not None:
                output.close()  # type: ignore[union-attr]

    def __enter__(self) -> Server:
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError("the server exited during start-up")
                try:
                    if httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            raise RuntimeError("the server did not become ready")
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def processes(self) -> list[psutil.Process]:
        """The supervisor and its workers."""
        parent = psutil.Process(self.process.pid)
        return [parent, *parent.children(recursive=True)]

    def workers(self) -> list[psutil.Process]:
        """The worker processes (uvicorn starts each with multiprocessing's spawn)."""
        return [p for p in self.processes() if "spawn_main" in " ".join(p.cmdline())]
