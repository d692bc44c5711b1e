"""The local copy's tables, declared once for every sink (docs/sync.md lists them)."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Kind(StrEnum):
    """A column's logical type; each sink maps it to its own storage type."""

    INT = "int"
    TEXT = "text"
    # Money as integer cents: exact in every sink, SQLite included (it has no decimal type).
    CENTS = "cents"
    BOOL = "bool"
    # An instant in UTC: TIMESTAMPTZ where the sink has one, ISO text ending in Z in SQLite.
    UTC = "utc"


# How records.py reads a column's value from its field of a received record: "id" a positive
# integer, "int" any 64-bit integer, "text" a string, "code" a string (a number is kept as its
# text), "money" an amount with at most two decimals as integer cents, "instant" an ISO 8601
# date-time with an offset (the text and the UTC instant, two columns), "last_changed" the
# same for the record's lastChanged (read once per record, before its parsing).
Read = Literal["id", "int", "text", "code", "money", "instant", "last_changed"]


@dataclass(frozen=True, slots=True)
class Column:
    """A column, and where a stream's records give its value: `field`, the JSON key, read as
    `read`; required when the column is NOT NULL, unless a missing value reads as `default`.
    No field: the parser gives the value (a seat's order id, whether the seat is deleted)."""

    name: str
    kind: Kind
    nullable: bool = True
    field: str | None = None
    read: Read | None = None
    default: int | None = None


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


# What a field is read as unless its column says otherwise.
_READS: dict[Kind, Read] = {Kind.INT: "int", Kind.TEXT: "text", Kind.CENTS: "money"}


def _c(
    name: str,
    kind: Kind,
    nullable: bool = True,
    field: str | None = None,
    *,
    read: Read | None = None,
    default: int | None = None,
) -> Column:
    if field is not None and read is None:
        read = _READS[kind]
    return Column(name, kind, nullable, field, read, default)


def _instant(name: str, field: str, read: Read = "instant") -> tuple[Column, Column]:
    """A timestamp as received (ISO text with the client's offset) and as a UTC instant."""
    text = _c(name, Kind.TEXT, True, field, read=read)
    return text, _c(f"{name}_utc", Kind.UTC, True, field, read=read)


def _last_changed() -> tuple[Column, Column]:
    return _instant("last_changed", "lastChanged", "last_changed")


N, T, C, B = Kind.INT, Kind.TEXT, Kind.CENTS, Kind.BOOL

CLIENT_TYPES = Table("client_types", (_c("name", T, False),), ("name",))

CUSTOMERS = Table(
    "customers",
    (
        _c("customer_id", N, False, "customerId", read="id"),
        _c("email", T, True, "email"),
        _c("customer_first_name", T, True, "customerFirstName"),
        _c("customer_last_name", T, True, "customerLastName"),
        _c("customer_salutation", T, True, "customerSalutation"),
        _c("customer_preposition", T, True, "customerPreposition"),
        _c("customer_address", T, True, "customerAddress"),
        _c("customer_house_nr", T, True, "customerHouseNr"),
        _c("customer_zip", T, True, "customerZip"),
        _c("customer_city", T, True, "customerCity"),
        _c("customer_country", T, True, "customerCountry"),
        _c("customer_phone", T, True, "customerPhone"),
        _c("customer_credit_cents", C, False, "customerCredit", default=0),
        *_instant("created_at", "createdAt"),
        *_last_changed(),
    ),
    ("customer_id",),
)

# Filled from the customer's clientTypes (records.py): a set of names, not one field each.
CUSTOMER_TAGS = Table(
    "customer_tags", (_c("customer_id", N, False), _c("name", T, False)), ("customer_id", "name")
)

ORDERS = Table(
    "orders",
    (
        _c("order_id", N, False, "orderId", read="id"),
        _c("order_key", T, True, "orderKey"),
        _c("customer_id", N, True, "customerId", read="id"),
        _c("order_status", T, False, "orderStatus"),
        _c("order_payment_status", T, False, "orderPaymentStatus"),
        _c("order_channel", T, True, "orderChannel"),
        *_instant("order_date", "orderDate"),
        *_instant("time_out", "timeOut"),
        *_last_changed(),
        _c("amount_cents", C, False, "amount"),
        _c("fee_cents", C, False, "fee", default=0),
        _c("donation_cents", C, False, "donation", default=0),
        _c("handling_text_payment", T, True, "handlingTextPayment"),
        _c("discount_name", T, True, "discountName"),
    ),
    ("order_id",),
)

# Current and removed seats in one table: `deleted` tells them apart (deletedSeats in the
# export), so a seat that is removed keeps its row and only changes flag. A row is read from
# one element of an order's seats or deletedSeats; the order and the flag are given.
ORDER_SEATS = Table(
    "order_seats",
    (
        _c("order_id", N, False),
        _c("seat_id", N, False, "seatId", read="id"),
        _c("deleted", B, False),
        _c("event_id", N, False, "eventId", read="id"),
        _c("rank_id", N, False, "rankId"),
        _c("row_nr", N, True, "rowNr"),
        _c("seat_nr", N, True, "seatNr"),
        _c("amount_cents", C, False, "amount"),
        # A short string in the contract; a number from another server is kept as its text.
        _c("price_id", T, False, "priceId", read="code"),
        _c("price_name", T, True, "priceName"),
        *_instant("deleted_at", "deletedAt"),
    ),
    ("order_id", "seat_id"),
)

WAITING_LIST_ENTRIES = Table(
    "waiting_list_entries",
    (
        _c("waiting_id", N, False, "waitingId", read="id"),
        _c("customer_id", N, True, "customerId", read="id"),
        _c("event_id", N, False, "eventId", read="id"),
        _c("number_of_tickets", N, False, "numberOfTickets"),
        _c("type", T, False, "type"),
        *_instant("created_at", "createdAt"),
        *_instant("notified_at", "notifiedAt"),
        *_last_changed(),
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
