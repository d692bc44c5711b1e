"""Shared fixtures: every test that takes `engine` runs on SQLite and on PostgreSQL.

PostgreSQL is reached at BOXOFFICE_TEST_POSTGRES_URL (default: the local server, user
postgres). When it is unreachable its tests are skipped, except in CI (CI=true) or with
BOXOFFICE_REQUIRE_POSTGRES=1, where that is an error: CI must never silently skip them.
"""

import itertools
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import CompoundSelect, Connection, Engine, Select, TextClause, event, make_url

from boxoffice.server.app import create_app
from boxoffice.server.config import Settings
from boxoffice.server.db.engine import autocommit_engine, is_sqlite, make_engine
from boxoffice.server.db.migrate import upgrade
from boxoffice.server.db.scoping import CROSS_TENANT, unscoped_tables
from boxoffice.server.db.transactions import COMMITTED, READ_ONLY, write_transaction
from boxoffice.server.tenancy.service import Tenant, create_tenant

POSTGRES_ADMIN_URL = os.environ.get(
    "BOXOFFICE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [
    b.strip() for b in os.environ.get("BOXOFFICE_TEST_DATABASES", "sqlite,postgresql").split(",")
]


def url_of_database(database: str) -> str:
    """POSTGRES_ADMIN_URL with `database` in place of its database, any query kept
    (`?host=/var/run/postgresql`: PostgreSQL's Unix socket; written quoted, as libpq reads
    it too)."""
    url = make_url(POSTGRES_ADMIN_URL).set(database=database)
    return url.render_as_string(hide_password=False)


REQUIRE_POSTGRES = (
    os.environ.get("CI") == "true" or os.environ.get("BOXOFFICE_REQUIRE_POSTGRES") == "1"
)

_names = itertools.count(1)


class UnscopedQuery(AssertionError):
    """A select, update or delete on a tenant-owned table without its tenant filter."""


# Every unscoped statement of the session, also those whose error some code swallowed.
_unscoped: list[str] = []


@event.listens_for(Engine, "before_execute")
def _check_tenant_scope(
    conn: Connection,
    clauseelement: object,
    multiparams: object,
    params: object,
    execution_options: dict[str, object],
) -> None:
    """Tenant scoping fails closed in the whole suite: every statement that the product's
    code executes on any engine is checked before it runs.

    Statements that tests write themselves (to read what was stored, or to make a cart
    expire) are test scaffolding, not queries of the product, and are left alone.
    """
    if _issued_by_a_test():
        return
    # read_transaction reads without a transaction on PostgreSQL: a write or a row lock
    # there would commit or end at once.
    if execution_options.get(READ_ONLY) and not _plain_read(clauseelement):
        message = f"a write or row lock in read_transaction: {clauseelement}"
        _unscoped.append(message)
        raise UnscopedQuery(message)
    # After run_pipelined(..., commit=True) sent the transaction's COMMIT, a statement
    # would run in a transaction of its own, outside the write barrier.
    if execution_options.get(COMMITTED):
        message = f"a statement after the transaction's COMMIT: {clauseelement}"
        _unscoped.append(message)
        raise UnscopedQuery(message)
    if execution_options.get(CROSS_TENANT):
        return
    tables = unscoped_tables(clauseelement)
    if tables:
        message = f"no tenant filter on {', '.join(sorted(tables))} in: {clauseelement}"
        _unscoped.append(message)
        raise UnscopedQuery(message)


def _plain_read(statement: object) -> bool:
    """A SELECT (or a UNION of them, or SELECT text) without a row lock."""
    if isinstance(statement, Select):
        return statement._for_update_arg is None
    if isinstance(statement, CompoundSelect):
        return all(_plain_read(part) for part in statement.selects)
    return (
        isinstance(statement, TextClause)
        and statement.text.lstrip().upper().startswith(("SELECT", "WITH"))
        and " FOR UPDATE" not in statement.text.upper()
    )


def _issued_by_a_test() -> bool:
    """Whether the code that called SQLAlchemy's execute is a test module's own."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("sqlalchemy"):
        frame = frame.f_back  # type: ignore[assignment]
    return frame is not None and frame.f_globals.get("__name__", "").startswith("tests.")


@pytest.fixture(autouse=True)
def _no_unscoped_query() -> Iterator[None]:
    start = len(_unscoped)
    yield
    assert _unscoped[start:] == [], "\n".join(_unscoped[start:])


def _postgres_database_url(tmp_name: str) -> str:
    """Create a fresh, empty database for this test session and return its URL."""
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{tmp_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{tmp_name}"')
    except psycopg.OperationalError as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required here but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    return url_of_database(tmp_name)


def _drop_postgres_database(tmp_name: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{tmp_name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database of each backend, shared by the session's tests."""
    backend = request.param
    if backend == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "boxoffice.db"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    elif backend == "postgresql":
        name = f"boxoffice_test_{os.getpid()}"
        url = _postgres_database_url(name)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        _drop_postgres_database(name)
    else:
        raise ValueError(f"unknown test database backend {backend!r}")


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    # The shared app runs without rate limits: the isolation matrix alone fails authentication
    # hundreds of times from one address. tests/ops tests the limits with apps of their own.
    return Settings(
        database_url=database_url,
        rate_limit_per_minute=0,
        auth_failure_limit_per_minute=0,
        public_rate_limit_requests=0,
    )


@pytest.fixture(scope="session")
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings, engine=engine)


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    """The real app over HTTP (in-process ASGI transport)."""
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


@dataclass(frozen=True)
class Client:
    """A freshly created client (tenant): each test gets its own, so tests never collide."""

    tenant: Tenant
    key: str

    @property
    def name(self) -> str:
        return self.tenant.name

    @property
    def base(self) -> str:
        return f"/v1/{self.tenant.name}/peppered"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": self.key}


@contextmanager
def cursor_executes(engine: Engine, record: Callable[..., None]) -> Iterator[None]:
    """`record` listens to `before_cursor_execute` within the block, on the engine and, on
    PostgreSQL, its pool in autocommit (db/engine.py): every statement the product runs
    through the engine."""
    pools = [engine] if is_sqlite(engine) else [engine, autocommit_engine(engine)]
    for pool in pools:
        event.listen(pool, "before_cursor_execute", record)
    try:
        yield
    finally:
        for pool in pools:
            event.remove(pool, "before_cursor_execute", record)


def new_client(engine: Engine, timezone: str = "Europe/Amsterdam") -> Client:
    name = f"t{next(_names)}-{uuid.uuid4().hex[:8]}"
    with write_transaction(engine) as tx:
        tenant, key = create_tenant(tx.conn, name=name, timezone=timezone, now=tx.now)
    return Client(tenant=tenant, key=key)


@pytest.fixture
def client(engine: Engine) -> Client:
    return new_client(engine)


@pytest.fixture
def other_client(engine: Engine) -> Client:
    return new_client(engine)
