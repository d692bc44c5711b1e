"""Catalog tables. Ids come from the catalog file, so they are unique per client only."""

from sqlalchemy import (
    Boolean,
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
from sqlalchemy.sql.schema import SchemaItem

from boxoffice.server.db.columns import (
    cents_column,
    id_and_tenant_columns,
    instant_column,
    int_column,
    one_of,
    tenant_column,
)
from boxoffice.server.db.metadata import metadata

SEATINGS = ("reserved", "unreserved")
EVENT_STATUSES = ("pub", "nosal", "trash")


def catalog_key(*ids: str) -> list[SchemaItem]:
    """A catalog row's key: its client, then the ids the catalog file gives it, which are
    unique per client only (so the primary key holds the client too)."""
    return [
        tenant_column(),
        *(int_column(name) for name in ids),
        PrimaryKeyConstraint("tenant_id", *ids),
    ]


def catalog_reference(table: str, *ids: str) -> ForeignKeyConstraint:
    """A reference to a catalog row: the row of `table` with these ids, of the same client."""
    return ForeignKeyConstraint(
        ["tenant_id", *ids], [f"{table}.{name}" for name in ("tenant_id", *ids)]
    )


def name_column() -> "Column[str]":
    """The name every catalog row has (a rank, a method, a hall, a production, ...)."""
    return Column("name", String(255), nullable=False)


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

ranks = Table("ranks", metadata, *catalog_key("rank_id"), name_column())

payment_methods = Table(
    "payment_methods",
    metadata,
    *catalog_key("payment_method_id"),
    name_column(),
    cents_column("fee_cents"),
    # Who takes the payment (docs/catalog.md); `invoice` takes none online.
    Column("provider", String(32), nullable=False, server_default="invoice"),
    # Offered to buyers on the public API; the box office sees every method.
    Column("online", Boolean, nullable=False, server_default=true()),
)

halls = Table(
    "halls",
    metadata,
    *catalog_key("hall_id"),
    name_column(),
    Column("address", String(255)),
    Column("zip", String(20)),
    Column("city", String(255)),
    Column("phone", String(40)),
    Column("url", String(1000)),
)

hall_sections = Table(
    "hall_sections",
    metadata,
    *catalog_key("hall_id", "section_id"),
    name_column(),
    catalog_reference("halls", "hall_id"),
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
    catalog_reference("hall_sections", "hall_id", "section_id"),
    catalog_reference("ranks", "rank_id"),
)

productions = Table(
    "productions",
    metadata,
    *catalog_key("production_id"),
    name_column(),
    *public_text_columns(),
)

events = Table(
    "events",
    metadata,
    *catalog_key("event_id"),
    int_column("production_id"),
    name_column(),
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
    catalog_reference("productions", "production_id"),
    catalog_reference("halls", "hall_id"),
    one_of("seating", SEATINGS),
    one_of("status", EVENT_STATUSES),
)

# Places per rank of an unreserved (general admission) event.
event_capacities = Table(
    "event_capacities",
    metadata,
    *catalog_key("event_id", "rank_id"),
    int_column("places"),
    catalog_reference("events", "event_id"),
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
    catalog_reference("events", "event_id"),
)

prices = Table(
    "prices",
    metadata,
    tenant_column(),
    Column("price_id", String(32), nullable=False),
    int_column("event_id"),
    name_column(),
    int_column("rank_id"),
    cents_column("amount_cents"),
    PrimaryKeyConstraint("tenant_id", "price_id"),
    catalog_reference("events", "event_id"),
)
