"""The local copy's tables, declared once for every sink (docs/sync.md lists them)."""

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """A column's logical type; each sink maps it to its own storage type."""

    INT = "int"
    TEXT = "text"
    # Money as integer cents: exact in every sink, SQLite included (it has no decimal type).
    CENTS = "cents"
    BOOL = "bool"
    # An instant in UTC: TIMESTAMPTZ where the sink has one, ISO text ending in Z in SQLite.
    UTC = "utc"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    nullable: bool = True


@dataclass(frozen=True, slots=True)
class Table:
    """A table of the copy; rows are tuples in `columns` order, upserted by `key`."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def index(self, name: str) -> int:
        return self.column_names.index(name)


def _c(name: str, kind: Kind, nullable: bool = True) -> Column:
    return Column(name, kind, nullable)


def _instant(name: str, nullable: bool = True) -> tuple[Column, Column]:
    """A timestamp as received (ISO text with the client's offset) and as a UTC instant."""
    return _c(name, Kind.TEXT, nullable), _c(f"{name}_utc", Kind.UTC, nullable)


N, T, C, B = Kind.INT, Kind.TEXT, Kind.CENTS, Kind.BOOL

CLIENT_TYPES = Table("client_types", (_c("name", T, False),), ("name",))

CUSTOMERS = Table(
    "customers",
    (
        _c("customer_id", N, False),
        _c("email", T),
        _c("customer_first_name", T),
        _c("customer_last_name", T),
        _c("customer_salutation", T),
        _c("customer_preposition", T),
        _c("customer_address", T),
        _c("customer_house_nr", T),
        _c("customer_zip", T),
        _c("customer_city", T),
        _c("customer_country", T),
        _c("customer_phone", T),
        _c("customer_credit_cents", C, False),
        *_instant("created_at"),
        *_instant("last_changed"),
    ),
    ("customer_id",),
)

CUSTOMER_TAGS = Table(
    "customer_tags", (_c("customer_id", N, False), _c("name", T, False)), ("customer_id", "name")
)

ORDERS = Table(
    "orders",
    (
        _c("order_id", N, False),
        _c("order_key", T),
        _c("customer_id", N),
        _c("order_status", T, False),
        _c("order_payment_status", T, False),
        _c("order_channel", T),
        *_instant("order_date"),
        *_instant("time_out"),
        *_instant("last_changed"),
        _c("amount_cents", C, False),
        _c("fee_cents", C, False),
        _c("donation_cents", C, False),
        _c("handling_text_payment", T),
        _c("discount_name", T),
    ),
    ("order_id",),
)

# Current and removed seats in one table: `deleted` tells them apart (deletedSeats in the
# export), so a seat that is removed keeps its row and only changes flag.
ORDER_SEATS = Table(
    "order_seats",
    (
        _c("order_id", N, False),
        _c("seat_id", N, False),
        _c("deleted", B, False),
        _c("event_id", N, False),
        _c("rank_id", N, False),
        _c("row_nr", N),
        _c("seat_nr", N),
        _c("amount_cents", C, False),
        _c("price_id", T, False),
        _c("price_name", T),
        *_instant("deleted_at"),
    ),
    ("order_id", "seat_id"),
)

WAITING_LIST_ENTRIES = Table(
    "waiting_list_entries",
    (
        _c("waiting_id", N, False),
        _c("customer_id", N),
        _c("event_id", N, False),
        _c("number_of_tickets", N, False),
        _c("type", T, False),
        *_instant("created_at"),
        *_instant("notified_at"),
        *_instant("last_changed"),
    ),
    ("waiting_id",),
)

# Records that arrived but could not be stored: kept with the reason, never dropped.
REJECTED_RECORDS = Table(
    "rejected_records",
    (
        _c("stream", T, False),
        _c("record_id", T, False),
        _c("error", T, False),
        _c("record", T, False),
        _c("received_at_utc", Kind.UTC, False),
    ),
    ("stream", "record_id"),
)

# One row per stream: where the next run starts, and what the last run did.
SYNC_STATE = Table(
    "sync_state",
    (
        _c("stream", T, False),
        # "<url> <client>": a copy belongs to one source; a run from another is refused.
        _c("source", T, False),
        # The changedSince of the next run (NULL: everything), and where it came from.
        _c("watermark", T),
        _c("watermark_kind", T),
        _c("max_last_changed", T),
        # A cursor-paged export in progress: the next page's cursor, its body's changedSince
        # and the X-Sync-Watermark of its pages.
        _c("cursor", T),
        _c("cursor_since", T),
        _c("cursor_watermark", T),
        # A reference-mode sync split into date ranges, in progress: every record changed
        # before this instant is stored.
        _c("range_from", T),
        _c("last_run_started_at_utc", Kind.UTC),
        _c("last_run_finished_at_utc", Kind.UTC),
        _c("last_run_status", T),
        _c("last_run_records", N, False),
        _c("rows", N),
    ),
    ("stream",),
)

DATA_TABLES = (
    CLIENT_TYPES,
    CUSTOMERS,
    CUSTOMER_TAGS,
    ORDERS,
    ORDER_SEATS,
    WAITING_LIST_ENTRIES,
    REJECTED_RECORDS,
)
ALL_TABLES = (*DATA_TABLES, SYNC_STATE)
TABLES = {t.name: t for t in ALL_TABLES}

# The tables each stream writes, its main table first.
STREAM_TABLES: dict[str, tuple[Table, ...]] = {
    "clienttypes": (CLIENT_TYPES,),
    "customers": (CUSTOMERS, CUSTOMER_TAGS),
    "orders": (ORDERS, ORDER_SEATS),
    "waitinglist": (WAITING_LIST_ENTRIES,),
}
STREAMS = tuple(STREAM_TABLES)
