"""SQL for the visitor sessions of embedded shops. Every function takes a keyword-only tenant_id."""

from sqlalchemy import Connection, RowMapping
from sqlalchemy.dialects import postgresql, sqlite

from boxoffice.server.db.scoping import first_row, scoped_delete, scoped_update
from boxoffice.server.embed.tables import embed_sessions


def find_session(conn: Connection, *, tenant_id: int, token_hash: str) -> RowMapping | None:
    """The token's session, row-locked: one get-session of a token at a time decides."""
    of_token = embed_sessions.c.token_hash == token_hash
    return first_row(conn, embed_sessions, of_token, tenant_id=tenant_id, lock=True)


def insert_session(
    conn: Connection, *, tenant_id: int, token_hash: str, cart_id: str, now: int
) -> bool:
    """A new session of the token; False when a concurrent request inserted one first."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = (
        dialect_insert(embed_sessions)
        .values(
            tenant_id=tenant_id,
            token_hash=token_hash,
            cart_id=cart_id,
            created_at=now,
            last_used_at=now,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "token_hash"])
        .returning(embed_sessions.c.id)
    )
    return conn.execute(stmt).first() is not None


def use_session(
    conn: Connection, *, tenant_id: int, session_row_id: int, cart_id: str, now: int
) -> None:
    """The session (still or now) stands for `cart_id`, used now."""
    conn.execute(
        scoped_update(embed_sessions, tenant_id=tenant_id)
        .where(embed_sessions.c.id == session_row_id)
        .values(cart_id=cart_id, last_used_at=now)
    )


def delete_sessions_unused_since(conn: Connection, *, tenant_id: int, before: int) -> None:
    conn.execute(
        scoped_delete(embed_sessions, tenant_id=tenant_id).where(
            embed_sessions.c.last_used_at < before
        )
    )
