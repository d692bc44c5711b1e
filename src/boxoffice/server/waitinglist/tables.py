"""The waiting-list table."""

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Table

from boxoffice.server.db.columns import instant_column, tenant_column
from boxoffice.server.db.metadata import metadata

WAITING_TYPES = ("waiting", "notified", "converted", "cancelled", "expired")

waiting_list_entries = Table(
    "waiting_list_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    tenant_column(),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("event_id", Integer, nullable=False),
    Column("number_of_tickets", Integer, nullable=False),
    Column("type", String(16), nullable=False),
    instant_column("created_at"),
    instant_column("notified_at", nullable=True),
    instant_column("last_changed_at"),
    CheckConstraint("number_of_tickets BETWEEN 1 AND 20", name="number_of_tickets"),
    CheckConstraint(
        "type IN ('waiting', 'notified', 'converted', 'cancelled', 'expired')", name="type"
    ),
    Index("ix_waiting_list_entries_tenant_changed", "tenant_id", "last_changed_at", "id"),
    Index("ix_waiting_list_entries_event", "tenant_id", "event_id"),
)
