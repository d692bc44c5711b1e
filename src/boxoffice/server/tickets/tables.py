"""The secret of each ticket: what its QR code carries and what a scanner looks up."""

from sqlalchemy import Column, ForeignKey, Integer, String, Table

from boxoffice.server.db.columns import instant_column, tenant_column
from boxoffice.server.db.metadata import metadata

ticket_secrets = Table(
    "ticket_secrets",
    metadata,
    Column("id", Integer, primary_key=True),
    tenant_column(),
    Column("order_seat_id", Integer, ForeignKey("order_seats.id"), nullable=False, unique=True),
    # The secret itself is kept to draw the ticket again; lookups go by its SHA-256 (hex).
    Column("secret", String(64), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    instant_column("created_at"),
)
