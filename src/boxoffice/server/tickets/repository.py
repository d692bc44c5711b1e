"""SQL for ticket secrets. Every function takes a keyword-only tenant_id."""

from collections.abc import Collection, Sequence

from sqlalchemy import Connection, insert

from boxoffice.server.db.scoping import scoped_select
from boxoffice.server.tickets.tables import ticket_secrets


def insert_secrets(
    conn: Connection, *, tenant_id: int, secrets: Sequence[tuple[int, str, str]], now: int
) -> None:
    """(order seat id, secret, SHA-256 of the secret) rows."""
    if secrets:
        conn.execute(
            insert(ticket_secrets),
            [
                {
                    "tenant_id": tenant_id,
                    "order_seat_id": seat_id,
                    "secret": secret,
                    "secret_hash": secret_hash,
                    "created_at": now,
                }
                for seat_id, secret, secret_hash in secrets
            ],
        )


def list_secrets(
    conn: Connection, *, tenant_id: int, order_seat_ids: Collection[int]
) -> dict[int, str]:
    """{order seat id: its ticket's secret}."""
    if not order_seat_ids:
        return {}
    stmt = scoped_select(
        ticket_secrets,
        ticket_secrets.c.order_seat_id,
        ticket_secrets.c.secret,
        tenant_id=tenant_id,
    ).where(ticket_secrets.c.order_seat_id.in_(list(order_seat_ids)))
    return {int(seat_id): secret for seat_id, secret in conn.execute(stmt)}
