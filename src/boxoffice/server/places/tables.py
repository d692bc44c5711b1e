"""The place claims (one row per place held by a cart or sold in a live order) and the
counts kept of them."""

from sqlalchemy import Column, Index, Integer, String, Table, UniqueConstraint

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
    # The claims that expire (holds, unpaid reservations) of an event, by expiry: counting
    # the live ones reads only them, deleting the expired ones only those.
    Index("ix_place_claims_expiry", "tenant_id", "event_id", "expires_at"),
)

# How many claims without expiry (sales) each event has per rank, changed in the
# transaction that changes the claims: what availability reads instead of counting the
# claims. Claims that expire are counted live (ix_place_claims_expiry), so an expired hold
# is invisible the moment it expires (docs/development.md, "Places").
place_counts = Table(
    "place_counts",
    metadata,
    *id_and_tenant_columns(),
    int_column("event_id"),
    int_column("rank_id"),
    Column("sold", Integer, nullable=False, server_default="0"),
    UniqueConstraint("tenant_id", "event_id", "rank_id"),
)
