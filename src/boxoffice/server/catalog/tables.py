"""Catalog tables. Ids come from the catalog file, so they are unique per client only."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

from boxoffice.server.db.columns import (
    cents_column,
    id_and_tenant_columns,
    instant_column,
    int_column,
    tenant_column,
)
from boxoffice.server.db.metadata import metadata


def public_text_columns() -> "list[Column[str]]":
    """The texts a production shows on the public API, which an event may override."""
    return [
        Column("text", Text),
        Column("short_text", String(255)),
        Column("image", String(1000)),
        # JSON array of event-type names, or NULL.
        Column("event_types", Text),
    ]


client_types = Table(
    "client_types",
    metadata,
    tenant_column(),
    Column("name", String(64), nullable=False),
    PrimaryKeyConstraint("tenant_id", "name"),
)

ranks = Table(
    "ranks",
    metadata,
    tenant_column(),
    int_column("rank_id"),
    Column("name", String(255), nullable=False),
    PrimaryKeyConstraint("tenant_id", "rank_id"),
)

payment_methods = Table(
    "payment_methods",
    metadata,
    tenant_column(),
    int_column("payment_method_id"),
    Column("name", String(255), nullable=False),
    cents_column("fee_cents"),
    # Who takes the payment (docs/catalog.md); `invoice` takes none online.
    Column("provider", String(32), nullable=False, server_default="invoice"),
    # Offered to buyers on the public API; the box office sees every method.
    Column("online", Boolean, nullable=False, server_default=true()),
    PrimaryKeyConstraint("tenant_id", "payment_method_id"),
)

halls = Table(
    "halls",
    metadata,
    tenant_column(),
    int_column("hall_id"),
    Column("name", String(255), nullable=False),
    Column("address", String(255)),
    Column("zip", String(20)),
    Column("city", String(255)),
    Column("phone", String(40)),
    Column("url", String(1000)),
    PrimaryKeyConstraint("tenant_id", "hall_id"),
)

hall_sections = Table(
    "hall_sections",
    metadata,
    tenant_column(),
    int_column("hall_id"),
    int_column("section_id"),
    Column("name", String(255), nullable=False),
    PrimaryKeyConstraint("tenant_id", "hall_id", "section_id"),
    ForeignKeyConstraint(["tenant_id", "hall_id"], ["halls.tenant_id", "halls.hall_id"]),
)

# A physical seat. Its id is the public `seatId` of seating plans and cart items; it is
# assigned on first load and kept on reload, keyed by (hall, section, row, seat).
hall_seats = Table(
    "hall_seats",
    metadata,
    *id_and_tenant_columns(),
    int_column("hall_id"),
    int_column("section_id"),
    int_column("row_nr"),
    int_column("seat_nr"),
    int_column("rank_id"),
    UniqueConstraint("tenant_id", "hall_id", "section_id", "row_nr", "seat_nr"),
    ForeignKeyConstraint(
        ["tenant_id", "hall_id", "section_id"],
        ["hall_sections.tenant_id", "hall_sections.hall_id", "hall_sections.section_id"],
    ),
    ForeignKeyConstraint(["tenant_id", "rank_id"], ["ranks.tenant_id", "ranks.rank_id"]),
)

productions = Table(
    "productions",
    metadata,
    tenant_column(),
    int_column("production_id"),
    Column("name", String(255), nullable=False),
    *public_text_columns(),
    PrimaryKeyConstraint("tenant_id", "production_id"),
)

events = Table(
    "events",
    metadata,
    tenant_column(),
    int_column("event_id"),
    int_column("production_id"),
    Column("name", String(255), nullable=False),
    Column("event_type", String(64)),
    # JSON array of strings, or NULL.
    Column("event_tags", Text),
    instant_column("start_at"),
    instant_column("end_at"),
    int_column("hall_id"),
    Column("seating", String(16), nullable=False),
    # What the public API shows (docs/catalog.md); NULL falls back to the production's.
    *public_text_columns(),
    Column("url", String(1000)),
    Column("status", String(8), nullable=False, server_default="pub"),
    instant_column("view_end_at", nullable=True),
    Column("max_tickets_per_order", Integer, nullable=False, server_default="10"),
    PrimaryKeyConstraint("tenant_id", "event_id"),
    ForeignKeyConstraint(
        ["tenant_id", "production_id"], ["productions.tenant_id", "productions.production_id"]
    ),
    ForeignKeyConstraint(["tenant_id", "hall_id"], ["halls.tenant_id", "halls.hall_id"]),
    CheckConstraint("seating IN ('reserved', 'unreserved')", name="seating"),
    CheckConstraint("status IN ('pub', 'nosal', 'trash')", name="status"),
)

# Places per rank of an unreserved (general admission) event.
event_capacities = Table(
    "event_capacities",
    metadata,
    tenant_column(),
    int_column("event_id"),
    int_column("rank_id"),
    int_column("places"),
    PrimaryKeyConstraint("tenant_id", "event_id", "rank_id"),
    ForeignKeyConstraint(["tenant_id", "event_id"], ["events.tenant_id", "events.event_id"]),
)

# Places held back from sale: a hall seat (reserved events) or a number of units of a rank
# (unreserved events).
event_blocks = Table(
    "event_blocks",
    metadata,
    *id_and_tenant_columns(),
    int_column("event_id"),
    Column("block_type", String(16), nullable=False),
    int_column("hall_seat_id", nullable=True),
    int_column("rank_id", nullable=True),
    Column("places", Integer, nullable=False, server_default="1"),
    ForeignKeyConstraint(["tenant_id", "event_id"], ["events.tenant_id", "events.event_id"]),
)

prices = Table(
    "prices",
    metadata,
    tenant_column(),
    Column("price_id", String(32), nullable=False),
    int_column("event_id"),
    Column("name", String(255), nullable=False),
    int_column("rank_id"),
    cents_column("amount_cents"),
    PrimaryKeyConstraint("tenant_id", "price_id"),
    ForeignKeyConstraint(["tenant_id", "event_id"], ["events.tenant_id", "events.event_id"]),
)
