"""Checking received records and turning them into rows of the local tables."""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from boxoffice.client.errors import RecordError
from boxoffice.client.schema import (
    CUSTOMERS,
    ORDER_SEATS,
    ORDERS,
    WAITING_LIST_ENTRIES,
    Column,
    Kind,
    Table,
)

_AMOUNT_TEXT = re.compile(r"^-?\d+(?:\.\d{1,2})?$")
_MAX_CENTS = 10**15

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
        value = record.get(_STREAMS[stream].id_field)
        if isinstance(value, int | str) and not isinstance(value, bool):
            return str(value)
    return None


def parse_record(stream: str, record: object, last_changed: LastChanged | None) -> Parsed:
    """The record as rows; `last_changed` is read_last_changed(record), not parsed again."""
    if not isinstance(record, Mapping):
        raise RecordError(f"a record must be a JSON object, not {type(record).__name__}")
    try:
        parser = _STREAMS[stream]
    except KeyError:
        raise ValueError(f"unknown stream {stream!r}") from None
    row = parser.read(record, last_changed)
    record_id = row[parser.id_at]
    return Parsed(record_id, row[parser.last_changed_at], row, parser.children(record, record_id))


def parse_client_type(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise RecordError(f"a client type must be a non-empty string, not {value!r}")
    return value


def dedupe_last(parsed: Sequence[Parsed]) -> tuple[list[Parsed], int]:
    """Keep the last record of each id (a page should not repeat one); count the dropped."""
    latest: dict[int, Parsed] = {}
    for item in parsed:
        latest.pop(item.record_id, None)
        latest[item.record_id] = item
    return list(latest.values()), len(parsed) - len(latest)


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


def _code(r: Mapping[str, Any], name: str) -> str:
    """A required string; a number is kept as its text rather than refused."""
    value = r.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise RecordError(f"{name} must be a string")
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


def _changed(
    r: Mapping[str, Any], name: str, known: LastChanged | None
) -> tuple[str | None, datetime | None]:
    """lastChanged as read already; parsed here only to reject a bad one (or none: absent)."""
    if known is not None:
        return known.text, known.at
    return _instant(r, name, required=False)


def parse_instant(value: str) -> datetime:
    """An ISO 8601 date-time with an offset (or Z) as an aware UTC datetime."""
    if len(value) < 19 or value[10] not in "Tt ":
        raise ValueError(f"not an ISO 8601 date-time: {value!r}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"date-time without an offset: {value!r}")
    return parsed.astimezone(UTC)


def row_reader(table: Table, first: Sequence[str] = ()) -> Callable[..., Row]:
    """A function `read(record, *given)`: the row of `table` (a tuple in column order) that
    `record`, a mapping, gives through its columns' fields, or RecordError naming the field.
    `given`, in column order: the value of each column without a field, and for lastChanged
    the LastChanged already read (read_last_changed).

    Fields are checked in column order, those of the columns named in `first` before the
    rest: a record with several faults is refused for the first one met.

    The function is compiled from the table, as dataclasses compiles its __init__: a sync
    parses every record it receives, and a loop over the columns read 30% fewer records a
    second than parsers written by hand, where the code written out is as fast. Its source
    names only this table's fields.
    """
    names = [f"c{index}" for index in range(len(table.columns))]
    given: list[str] = []
    steps: dict[str, str] = {}
    for index, column in enumerate(table.columns):
        field, target = column.field, names[index]
        if field is None:
            given.append(target)
        elif column.kind is Kind.UTC:
            continue  # read with its text column
        elif column.read in ("instant", "last_changed"):
            pair = f"{target}, {names[table.index(f'{column.name}_utc')]}"
            if column.read == "last_changed":
                given.append("known")
                steps[column.name] = f"{pair} = _changed(r, {field!r}, known)"
            else:
                steps[column.name] = (
                    f"{pair} = _instant(r, {field!r}, required={not column.nullable})"
                )
        else:
            steps[column.name] = f"{target} = {_reading(column)}"
    order = [*first, *(name for name in steps if name not in first)]
    source = (
        f"def read(r, {', '.join(given)}):\n"
        + "".join(f"    {steps[name]}\n" for name in order)
        + f"    return ({', '.join(names)},)\n"
    )
    namespace: dict[str, Any] = {
        "_id": _id,
        "_optional_id": _optional_id,
        "_int": _int,
        "_text": _text,
        "_code": _code,
        "_cents": _cents,
        "_instant": _instant,
        "_changed": _changed,
    }
    exec(compile(source, f"<{table.name} reader>", "exec"), namespace)  # noqa: S102
    read: Callable[..., Row] = namespace["read"]
    return read


def _reading(column: Column) -> str:
    """The call that reads `column`'s value from the record `r` (defaults left unsaid)."""
    field, required = column.field, not column.nullable
    if column.read == "id":
        return f"_id(r, {field!r})" if required else f"_optional_id(r, {field!r})"
    if column.read == "int":
        return f"_int(r, {field!r})" if required else f"_int(r, {field!r}, nullable=True)"
    if column.read == "text":
        return f"_text(r, {field!r}, required=True)" if required else f"_text(r, {field!r})"
    if column.read == "code" and required:
        return f"_code(r, {field!r})"
    if column.read == "money" and required:
        default = "" if column.default is None else f", default={column.default!r}"
        return f"_cents(r, {field!r}{default})"
    raise ValueError(f"{column.name}: no reading for {column.read} (nullable: {column.nullable})")


def _tags(r: Mapping[str, Any], customer_id: int) -> list[Row] | None:
    """The customer's tags from its clientTypes (None: leave the stored ones alone)."""
    # clientTypes is an extension: a server without it says nothing about tags, so the
    # stored tags are left alone rather than cleared.
    raw_tags = r.get("clientTypes")
    if raw_tags is None:
        return None
    if not isinstance(raw_tags, list) or not all(isinstance(t, str) for t in raw_tags):
        raise RecordError("clientTypes must be an array of strings")
    return [(customer_id, name) for name in sorted(set(raw_tags))]


_SEAT_ROW = row_reader(ORDER_SEATS, first=("price_id",))
_SEAT_ID = ORDER_SEATS.index("seat_id")


def _seats(r: Mapping[str, Any], order_id: int) -> list[Row]:
    """The order's current and removed seats, as rows; a fault is named by its path."""
    seats: list[Row] = []
    seen: set[int] = set()
    for field, deleted in (("seats", False), ("deletedSeats", True)):
        raw = r.get(field)
        if raw is None:
            continue
        if not isinstance(raw, list):
            raise RecordError(f"{field} must be an array")
        for position, seat in enumerate(raw):
            if not isinstance(seat, Mapping):
                raise RecordError(f"{field}[{position}] must be an object")
            try:
                row = _SEAT_ROW(seat, order_id, deleted)
            except RecordError as exc:
                raise RecordError(f"{field}[{position}].{exc}") from None
            seat_id = row[_SEAT_ID]
            if seat_id in seen:
                raise RecordError(f"{field}[{position}].seatId {seat_id} occurs twice in the order")
            seen.add(seat_id)
            seats.append(row)
    return seats


def _no_children(r: Mapping[str, Any], record_id: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class _Stream:
    """How a stream's records become rows: its main table's reader, the record's id field and
    where the row holds the id and lastChanged, the record's child rows (None: the stored ones
    stay)."""

    read: Callable[..., Row]
    id_field: str
    id_at: int
    last_changed_at: int
    children: Callable[[Mapping[str, Any], int], list[Row] | None]


def _stream(
    table: Table,
    children: Callable[[Mapping[str, Any], int], list[Row] | None],
    first: Sequence[str] = (),
) -> _Stream:
    id_at = table.index(table.key[0])
    id_field = table.columns[id_at].field
    assert id_field is not None
    read = row_reader(table, first)
    return _Stream(read, id_field, id_at, table.index("last_changed"), children)


# Orders and waiting-list entries check their id and lastChanged before their other fields.
_STREAMS = {
    "customers": _stream(CUSTOMERS, _tags),
    "orders": _stream(ORDERS, _seats, ("order_id", "last_changed")),
    "waitinglist": _stream(WAITING_LIST_ENTRIES, _no_children, ("waiting_id", "last_changed")),
}
