"""Engines for SQLite and PostgreSQL, configured so both behave the same way."""

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url


def normalise_url(url: str) -> URL:
    """Accept plain postgresql:// URLs and use psycopg 3 for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, connect_timeout: int = 10, **kwargs: Any) -> Engine:
    """An engine for the URL. On PostgreSQL a connection attempt gives up after
    `connect_timeout` seconds (unless the URL sets its own `connect_timeout`), so that a
    database that does not answer makes requests and /readyz fail instead of hang."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )
        _configure_sqlite(engine)
        return engine
    connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": connect_timeout}
    return create_engine(
        parsed,
        connect_args=connect_args,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        **kwargs,
    )


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling is switched off so that we emit BEGIN ourselves:
    # BEGIN IMMEDIATE for writes (the write lock is taken before the change stamp is read),
    # plain BEGIN for reads, and nothing at all on connections that manage their own.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get("manual_transaction"):
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get("write") else "BEGIN")
