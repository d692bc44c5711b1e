"""The secret of each ticket: what its QR code carries and what a scanner looks up."""

from sqlalchemy import Column, ForeignKey, Integer, String, Table

from boxoffice.server.db.columns import id_and_tenant_columns, instant_column
from boxoffice.server.db.metadata import metadata

ticket_secrets = Table(
    "ticket_secrets",
    metadata,
    *id_and_tenant_columns(),
    Column("order_seat_id", Integer, ForeignKey("order_seats.id"), nullable=False, unique=True),
    # The secret itself is kept to draw the ticket again; lookups go by its SHA-256 (hex).
    Column("secret", String(64), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    instant_column("created_at"),
)
