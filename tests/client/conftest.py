"""Fixtures of the sync tests: the real app served over TCP, local targets, a sync runner."""

import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from sqlalchemy import Engine

from boxoffice.client.api import PepperedApi
from boxoffice.client.report import SyncReport
from boxoffice.client.sinks import open_sink
from boxoffice.client.sync import Syncer, SyncOptions
from boxoffice.server.app import create_app
from boxoffice.server.config import Settings
from tests.builders.datasets import Dataset, make_dataset
from tests.conftest import POSTGRES_ADMIN_URL, REQUIRE_POSTGRES, Client, url_of_database

TARGETS = ("sqlite", "duckdb", "postgresql", "parquet")


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free 127.0.0.1 port in a thread; yields its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    else:
        raise RuntimeError("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture(scope="session")
def server_urls(settings: Settings, engine: Engine) -> Iterator[dict[bool, str]]:
    """The app with its extensions on (True) and off (False), on the test database."""
    with (
        serve(create_app(settings, engine=engine)) as on,
        serve(create_app(settings.model_copy(update={"extensions": False}), engine=engine)) as off,
    ):
        yield {True: on, False: off}


@pytest.fixture(params=[True, False], ids=["extensions", "reference"])
def extensions(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def server_url(server_urls: dict[bool, str], extensions: bool) -> str:
    return server_urls[extensions]


@pytest.fixture
def dataset(engine: Engine, client: Client) -> Dataset:
    return make_dataset(
        engine, client.tenant.id, customers_count=50, orders_count=90, waiting_count=30
    )


@pytest.fixture
def make_target(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """make_target(kind) -> a fresh, empty target URL of that kind."""
    databases: list[str] = []

    def make(kind: str) -> str:
        name = f"t{uuid.uuid4().hex[:10]}"
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / name}.db"
        if kind == "duckdb":
            return f"duckdb:///{tmp_path / name}.duckdb"
        if kind == "parquet":
            return f"parquet:///{tmp_path / name}"
        if kind == "postgresql":
            database = f"boxoffice_sync_{os.getpid()}_{name}"
            try:
                with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as c:
                    c.execute(f'CREATE DATABASE "{database}"')
            except psycopg.OperationalError as exc:
                if REQUIRE_POSTGRES:
                    pytest.fail(f"PostgreSQL is required here but unreachable: {exc}")
                pytest.skip(f"PostgreSQL unreachable: {exc}")
            databases.append(database)
            return url_of_database(database)
        raise ValueError(kind)

    yield make
    for database in databases:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(
    *args: str,
    key: str | None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    light: bool = False,
) -> CliResult:
    """`boxoffice sync ...` in a fresh process (what cron runs), the key in its environment.

    `light` runs the same command as `python -m boxoffice.client.cli`, which skips the
    server's imports: twice as fast to start, for the tests that start it many times.
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BOXOFFICE_SYNC")}
    environment["XDG_CONFIG_HOME"] = "/nonexistent"
    if key is not None:
        environment["BOXOFFICE_SYNC_KEY"] = key
    environment.update(env or {})
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            *(["boxoffice.client.cli"] if light else ["boxoffice.cli", "sync"]),
            *args,
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        check=False,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


def sync_once(
    url: str,
    client: Client,
    target: str,
    *,
    page_size: int = 7,
    streams: tuple[str, ...] | None = None,
    key: str | None = None,
    max_response_bytes: int = 256 * 1024 * 1024,
    **api_options: Any,
) -> SyncReport:
    """One sync run in this process, the way the CLI runs it."""
    options = SyncOptions(
        page_size=page_size,
        max_response_bytes=max_response_bytes,
        **({"streams": streams} if streams else {}),
    )
    sink = open_sink(target)
    try:
        with httpx.Client() as http:
            api = PepperedApi(
                http, base_url=url, client=client.name, key=key or client.key, **api_options
            )
            return Syncer(api, sink, source=api.base, options=options).run()
    finally:
        sink.close()
