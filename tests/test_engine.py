"""The engine's pool: which connection a request gets, and in what state."""

import pytest
from sqlalchemy import Engine, bindparam, insert, literal_column, select
from sqlalchemy.exc import DBAPIError

from boxoffice.server.db.engine import make_engine
from boxoffice.server.db.transactions import DriverRead, write_transaction
from boxoffice.server.tenancy.tables import clients
from tests.conftest import new_client


def test_the_pool_hands_out_the_connection_returned_last(database_url: str) -> None:
    """Last in, first out: at a light load the same connection serves request after request
    (never idle long enough to need a ping), while the others wait unused."""
    pool = make_engine(database_url)
    try:
        first, second = pool.connect(), pool.connect()
        returned_last = second.connection.dbapi_connection
        first.close()
        second.close()
        for _ in range(3):
            with pool.connect() as conn:
                assert conn.connection.dbapi_connection is returned_last
    finally:
        pool.dispose()


_CLIENT_NAMED = DriverRead(
    select(clients.c.name, clients.c.timezone).where(clients.c.name == bindparam("name"))
)


def _insert_then_fail(engine: Engine, name: str) -> None:
    with pytest.raises(RuntimeError), write_transaction(engine) as tx:
        tx.conn.execute(insert(clients).values(name=name, timezone="UTC", created_at=tx.now))
        raise RuntimeError("after the insert")


def test_a_driver_read_leaves_its_connection_writing_in_transactions(engine: Engine) -> None:
    """The key check's statement runs in autocommit (PostgreSQL); the connection it returns
    to the pool, handed out next (last in, first out), must write in a transaction again:
    a write that fails halfway leaves nothing."""
    client = new_client(engine)
    name = client.tenant.name
    assert _CLIENT_NAMED.first(engine, {"name": name}) == (name, "Europe/Amsterdam")
    assert _CLIENT_NAMED.first(engine, {"name": name + "-none"}) is None
    _insert_then_fail(engine, name + "-half")
    assert _CLIENT_NAMED.first(engine, {"name": name + "-half"}) is None


def test_a_failed_driver_read_raises_sqlalchemys_error_and_leaves_a_sound_pool(
    engine: Engine,
) -> None:
    broken = DriverRead(select(literal_column("no_such_column")).select_from(clients))
    with pytest.raises(DBAPIError):
        broken.first(engine, {})
    name = new_client(engine).tenant.name
    _insert_then_fail(engine, name + "-half")
    assert _CLIENT_NAMED.first(engine, {"name": name + "-half"}) is None
    assert _CLIENT_NAMED.first(engine, {"name": name}) is not None
