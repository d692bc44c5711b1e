"""The waiting-list table."""

from sqlalchemy import CheckConstraint, Column, Index, String, Table

from boxoffice.server.customers.tables import customer_column
from boxoffice.server.db.columns import (
    id_and_tenant_columns,
    instant_column,
    int_column,
    one_of,
)
from boxoffice.server.db.metadata import metadata

WAITING_TYPES = ("waiting", "notified", "converted", "cancelled", "expired")

waiting_list_entries = Table(
    "waiting_list_entries",
    metadata,
    *id_and_tenant_columns(),
    customer_column(),
    int_column("event_id"),
    int_column("number_of_tickets"),
    Column("type", String(16), nullable=False),
    instant_column("created_at"),
    instant_column("notified_at", nullable=True),
    instant_column("last_changed_at"),
    CheckConstraint("number_of_tickets BETWEEN 1 AND 20", name="number_of_tickets"),
    one_of("type", WAITING_TYPES),
    Index("ix_waiting_list_entries_tenant_changed", "tenant_id", "last_changed_at", "id"),
    Index("ix_waiting_list_entries_event", "tenant_id", "event_id"),
)
