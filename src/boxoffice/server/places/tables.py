"""The place claims (one row per place held by a cart or sold in a live order) and the
counts kept of them."""

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

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

# The claims that expire (holds, unpaid reservations) of an event, by expiry: counting the
# live ones reads only them, deleting the expired ones only those. Partial: sales (no
# expiry) are not in it, so it stays the size of the holds and reservations, and a query
# that does not ask for an expiry cannot use it. That matters on PostgreSQL, where both
# this index and the unique key start with (tenant_id, event_id): while place_claims has no
# statistics (a new database's first on-sale, before autovacuum's first ANALYZE) the
# planner saw them as equal, and the prepared statements' plans read every claim of the
# event through the wrong one (the probe of free units through this index, the delete of
# expired holds through the unique key: 2.8 and 0.6 ms with 3,000 places sold, where the
# right index reads a handful of rows; the probe needed a new shape as well:
# places/repository.py, _pg_claimed_among). A comparison on expires_at (`> now`,
# `<= now`) implies `IS NOT NULL`, so the reads of expiring claims still use it (both
# databases).
Index(
    "ix_place_claims_expiry",
    place_claims.c.tenant_id,
    place_claims.c.event_id,
    place_claims.c.expires_at,
    postgresql_where=place_claims.c.expires_at.is_not(None),
    sqlite_where=place_claims.c.expires_at.is_not(None),
)


def _kept_per_event(name: str, key: str, figure: str, kind: type[Integer]) -> Table:
    """A table of what is kept of an event's sales: one row per (client, event, `key`)
    holding the integer `figure` (0 until changed)."""
    return Table(
        name,
        metadata,
        *id_and_tenant_columns(),
        int_column("event_id"),
        int_column(key),
        Column(figure, kind, nullable=False, server_default="0"),
        UniqueConstraint("tenant_id", "event_id", key),
    )


# How many claims without expiry (sales) each event has per rank, changed in the
# transaction that changes the claims: what availability reads instead of counting the
# claims. Claims that expire are counted live (ix_place_claims_expiry), so an expired hold
# is invisible the moment it expires (docs/development.md, "Places").
place_counts = _kept_per_event("place_counts", "rank_id", "sold", Integer)

# Which seats each reserved event has sold (claims without expiry of "s<seat id>" keys),
# changed in the transaction that changes the claims, as place_counts is: what the seat
# plan and seat picking read instead of the sales one by one, so that their cost does not
# grow with the seats sold. Seat n is bit n % 63 of the row of block n // 63 (63 bits: a
# positive 64-bit integer on both databases); a block of a hall of consecutive seat ids
# covers 63 of its seats, so a 2,000-seat hall has at most 33 rows. Claims that expire are
# read live, as for the counts (docs/development.md, "Places").
place_sold_seats = _kept_per_event("place_sold_seats", "seat_block", "sold_bits", BigInteger)
