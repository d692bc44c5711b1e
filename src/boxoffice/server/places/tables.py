"""The table of place claims: one row per place held by a cart or sold in a live order."""

from sqlalchemy import Column, Integer, String, Table, UniqueConstraint

from boxoffice.server.db.columns import (
    id_and_tenant_columns,
    instant_column,
    int_column,
)
from boxoffice.server.db.metadata import metadata

# Every place that is held by a cart or sold in a live order. The unique key makes it
# impossible, whatever the concurrency, for one place to be taken twice: a reserved place is
# "s<hall seat id>", an unreserved one "u<rank id>:<unit number>". An expired hold is
# removed before its place is claimed again.
place_claims = Table(
    "place_claims",
    metadata,
    *id_and_tenant_columns(),
    int_column("event_id"),
    Column("place_key", String(32), nullable=False),
    int_column("rank_id"),
    Column("cart_item_id", Integer, nullable=True, index=True),
    Column("order_seat_id", Integer, nullable=True, index=True),
    instant_column("expires_at", nullable=True),
    UniqueConstraint("tenant_id", "event_id", "place_key"),
)
