"""SQL of the shared request budgets: leasing a slice of a window, deleting ended windows."""

from functools import lru_cache

from sqlalchemy import Connection, Integer, bindparam, case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.expression import Executable

from boxoffice.server.ops.tables import rate_limit_windows


@lru_cache(maxsize=2)
def _lease_statement(dialect_name: str) -> Executable:
    """The lease, built once per dialect: its values are bound per call (a lease runs once
    per slice, on every worker, so building and caching the statement each time would be
    most of its CPU)."""
    table = rate_limit_windows
    limit, size, first = (bindparam(name, type_=Integer) for name in ("limit", "size", "first"))
    left = limit - table.c.granted
    grant = case((left <= 0, 0), (left < size, left), else_=size)
    values = {
        "budget": bindparam("budget"),
        "identity": bindparam("identity"),
        "window_start_at": bindparam("window_start_at"),
        "window_end_at": bindparam("window_end_at"),
        "granted": first,
        "last_grant": first,
    }
    keys = [table.c.budget, table.c.identity, table.c.window_start_at]
    more = {"granted": table.c.granted + grant, "last_grant": grant}
    stmt: Insert
    if dialect_name == "postgresql":
        stmt = postgresql.insert(table).values(values)
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_=more)
    else:
        stmt = sqlite.insert(table).values(values)
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_=more)
    return stmt.returning(table.c.last_grant, table.c.granted)


def lease(
    conn: Connection,
    *,
    budget: str,
    identity: str,
    window_start_at: int,
    window_end_at: int,
    limit: int,
    size: int,
) -> tuple[int, int]:
    """Grant up to `size` more units of the window's `limit`: (units granted, the window's
    total granted including them). Never more than `limit` in all.

    One atomic statement (INSERT ... ON CONFLICT DO UPDATE ... RETURNING) on both databases:
    concurrent workers each get their own units and the total never passes the limit. The
    SET expressions read the row as it was, so `last_grant` is this lease's size.
    """
    params = {
        "budget": budget,
        "identity": identity,
        "window_start_at": window_start_at,
        "window_end_at": window_end_at,
        "limit": limit,
        "size": size,
        "first": min(size, limit),
    }
    row = conn.execute(_lease_statement(conn.dialect.name), params).one()
    return int(row[0]), int(row[1])


def delete_ended_windows(conn: Connection, *, now: int) -> int:
    """Delete the rows of every window that has ended by `now`; how many."""
    stmt = delete(rate_limit_windows).where(rate_limit_windows.c.window_end_at <= now)
    return conn.execute(stmt).rowcount
