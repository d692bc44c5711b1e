"""The engine's pool: which connection a request gets."""

from boxoffice.server.db.engine import make_engine


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
