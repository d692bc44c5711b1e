"""Checking received records and turning them into rows of the local tables."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from boxoffice.client.errors import RecordError

_AMOUNT_TEXT = re.compile(r"^-?\d+(?:\.\d{1,2})?$")
_MAX_CENTS = 10**15

# The id field of each stream's records.
ID_FIELDS = {"customers": "customerId", "orders": "orderId", "waitinglist": "waitingId"}

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Parsed:
    """One record as rows: its main row, and child rows replacing the old set (or None)."""

    record_id: int
    last_changed: str | None
    row: Row
    children: list[Row] | None


@dataclass(frozen=True, slots=True)
class LastChanged:
    """A record's lastChanged, read once: the text as received and the UTC instant."""

    text: str
    at: datetime


def read_last_changed(record: object) -> LastChanged | None:
    """The record's lastChanged, parsed once per record: the sync orders and bounds pages by
    it and stores it. None when absent or unreadable (parse_record then says what is wrong).
    """
    value = record.get("lastChanged") if isinstance(record, Mapping) else None
    if not isinstance(value, str):
        return None
    try:
        return LastChanged(value, parse_instant(value))
    except ValueError:
        return None


def record_id_text(stream: str, record: object) -> str | None:
    """The record's id as text, if it has one at all (used to report a bad record)."""
    if isinstance(record, Mapping):
        value = record.get(ID_FIELDS[stream])
        if isinstance(value, int | str) and not isinstance(value, bool):
            return str(value)
    return None


def parse_record(stream: str, record: object, last_changed: LastChanged | None) -> Parsed:
    """The record as rows; `last_changed` is read_last_changed(record), not parsed again."""
    if not isinstance(record, Mapping):
        raise RecordError(f"a record must be a JSON object, not {type(record).__name__}")
    if stream == "customers":
        return _customer(record, last_changed)
    if stream == "orders":
        return _order(record, last_changed)
    if stream == "waitinglist":
        return _waiting(record, last_changed)
    raise ValueError(f"unknown stream {stream!r}")


def parse_client_type(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise RecordError(f"a client type must be a non-empty string, not {value!r}")
    return value


def _customer(r: Mapping[str, Any], last_changed: LastChanged | None) -> Parsed:
    customer_id = _id(r, "customerId")
    texts = [
        _text(r, name)
        for name in (
            "email",
            "customerFirstName",
            "customerLastName",
            "customerSalutation",
            "customerPreposition",
            "customerAddress",
            "customerHouseNr",
            "customerZip",
            "customerCity",
            "customerCountry",
            "customerPhone",
        )
    ]
    credit = _cents(r, "customerCredit", default=0)
    created = _instant(r, "createdAt", required=False)
    changed = _changed(r, last_changed)
    tags: list[Row] | None = None
    # clientTypes is an extension: a server without it says nothing about tags, so the
    # stored tags are left alone rather than cleared.
    if r.get("clientTypes") is not None:
        raw_tags = r["clientTypes"]
        if not isinstance(raw_tags, list) or not all(isinstance(t, str) for t in raw_tags):
            raise RecordError("clientTypes must be an array of strings")
        tags = [(customer_id, name) for name in sorted(set(raw_tags))]
    row = (customer_id, *texts, credit, *created, *changed)
    return Parsed(customer_id, changed[0], row, tags)


def _order(r: Mapping[str, Any], last_changed: LastChanged | None) -> Parsed:
    order_id = _id(r, "orderId")
    changed = _changed(r, last_changed)
    row = (
        order_id,
        _text(r, "orderKey"),
        _optional_id(r, "customerId"),
        _text(r, "orderStatus", required=True),
        _text(r, "orderPaymentStatus", required=True),
        _text(r, "orderChannel"),
        *_instant(r, "orderDate", required=False),
        *_instant(r, "timeOut", required=False),
        *changed,
        _cents(r, "amount"),
        _cents(r, "fee", default=0),
        _cents(r, "donation", default=0),
        _text(r, "handlingTextPayment"),
        _text(r, "discountName"),
    )
    seats: list[Row] = []
    seen: set[int] = set()
    for field, deleted in (("seats", False), ("deletedSeats", True)):
        raw = r.get(field)
        if raw is None:
            continue
        if not isinstance(raw, list):
            raise RecordError(f"{field} must be an array")
        for position, seat in enumerate(raw):
            where = f"{field}[{position}]"
            parsed = _seat(order_id, seat, deleted, where)
            if parsed[1] in seen:
                raise RecordError(f"{where}.seatId {parsed[1]} occurs twice in the order")
            seen.add(parsed[1])
            seats.append(parsed)
    return Parsed(order_id, changed[0], row, seats)


def _seat(order_id: int, seat: object, deleted: bool, where: str) -> Row:
    if not isinstance(seat, Mapping):
        raise RecordError(f"{where} must be an object")
    try:
        price_id = seat.get("priceId")
        # priceId is a short string in the contract; a number from another server is kept
        # as its text rather than refused.
        if isinstance(price_id, int) and not isinstance(price_id, bool):
            price_id = str(price_id)
        if not isinstance(price_id, str):
            raise RecordError("priceId must be a string")
        return (
            order_id,
            _id(seat, "seatId"),
            deleted,
            _id(seat, "eventId"),
            _int(seat, "rankId"),
            _int(seat, "rowNr", nullable=True),
            _int(seat, "seatNr", nullable=True),
            _cents(seat, "amount"),
            price_id,
            _text(seat, "priceName"),
            *_instant(seat, "deletedAt", required=False),
        )
    except RecordError as exc:
        raise RecordError(f"{where}.{exc}") from None


def _waiting(r: Mapping[str, Any], last_changed: LastChanged | None) -> Parsed:
    waiting_id = _id(r, "waitingId")
    changed = _changed(r, last_changed)
    row = (
        waiting_id,
        _optional_id(r, "customerId"),
        _id(r, "eventId"),
        _int(r, "numberOfTickets"),
        _text(r, "type", required=True),
        *_instant(r, "createdAt", required=False),
        *_instant(r, "notifiedAt", required=False),
        *changed,
    )
    return Parsed(waiting_id, changed[0], row, None)


def _int(r: Mapping[str, Any], name: str, *, nullable: bool = False) -> int | None:
    value = r.get(name)
    if value is None:
        if nullable:
            return None
        raise RecordError(f"{name} is missing")
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(f"{name} must be an integer, not {value!r}")
    if not -(2**63) <= value < 2**63:
        raise RecordError(f"{name} is out of range")
    return value


def _id(r: Mapping[str, Any], name: str) -> int:
    value = _optional_id(r, name)
    if value is None:
        raise RecordError(f"{name} is missing")
    return value


def _optional_id(r: Mapping[str, Any], name: str) -> int | None:
    value = _int(r, name, nullable=True)
    if value is not None and value <= 0:
        raise RecordError(f"{name} must be a positive integer, not {value}")
    return value


def _text(r: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = r.get(name)
    if value is None:
        if required:
            raise RecordError(f"{name} is missing")
        return None
    if not isinstance(value, str):
        raise RecordError(f"{name} must be a string, not {value!r}")
    return value


def _cents(r: Mapping[str, Any], name: str, *, default: int | None = None) -> int:
    """An amount with at most two decimals, as exact integer cents.

    Bodies are parsed with Decimal for numbers with a fraction, so no binary float is ever
    involved; an amount with more decimals is refused rather than rounded.
    """
    value = r.get(name)
    if value is None:
        if default is not None:
            return default
        raise RecordError(f"{name} is missing")
    if isinstance(value, bool):
        raise RecordError(f"{name} must be a number, not {value!r}")
    if isinstance(value, str):
        if not _AMOUNT_TEXT.match(value.strip()):
            raise RecordError(f"{name} must be an amount, not {value!r}")
        value = Decimal(value.strip())
    if isinstance(value, int):
        value = Decimal(value)
    if not isinstance(value, Decimal):
        raise RecordError(f"{name} must be a number, not {value!r}")
    try:
        cents = value * 100
        if not cents.is_finite() or cents != cents.to_integral_value():
            raise RecordError(f"{name} has more than two decimals: {value}")
    except InvalidOperation:
        raise RecordError(f"{name} is not a valid amount") from None
    if abs(cents) >= _MAX_CENTS:
        raise RecordError(f"{name} is out of range")
    return int(cents)


def _instant(
    r: Mapping[str, Any], name: str, *, required: bool
) -> tuple[str | None, datetime | None]:
    """The timestamp as received and as a UTC instant; one without an offset is refused."""
    value = r.get(name)
    if value is None:
        if required:
            raise RecordError(f"{name} is missing")
        return None, None
    if not isinstance(value, str):
        raise RecordError(f"{name} must be an ISO 8601 date-time, not {value!r}")
    try:
        parsed = parse_instant(value)
    except ValueError as exc:
        raise RecordError(f"{name}: {exc}") from None
    return value, parsed


def _changed(r: Mapping[str, Any], known: LastChanged | None) -> tuple[str | None, datetime | None]:
    """lastChanged as read already; parsed here only to reject a bad one (or none: absent)."""
    if known is not None:
        return known.text, known.at
    return _instant(r, "lastChanged", required=False)


def parse_instant(value: str) -> datetime:
    """An ISO 8601 date-time with an offset (or Z) as an aware UTC datetime."""
    if len(value) < 19 or value[10] not in "Tt ":
        raise ValueError(f"not an ISO 8601 date-time: {value!r}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"date-time without an offset: {value!r}")
    return parsed.astimezone(UTC)


def dedupe_last(parsed: Sequence[Parsed]) -> tuple[list[Parsed], int]:
    """Keep the last record of each id (a page should not repeat one); count the dropped."""
    latest: dict[int, Parsed] = {}
    for item in parsed:
        latest.pop(item.record_id, None)
        latest[item.record_id] = item
    return list(latest.values()), len(parsed) - len(latest)
