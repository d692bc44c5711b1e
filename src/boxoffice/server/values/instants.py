"""Instants as UTC microseconds: conversion, and the one parser of date-time text."""

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from boxoffice.server.errors import InvalidInput

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_INSTANT_TEXT = re.compile(
    r"^\d{4}-\d{2}-\d{2}"
    r"(?P<time>[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|z|[+-]\d{2}:?\d{2})?)?$"
)

# A date-time whose offset lost its "+": an unencoded `+` in a query string (or a form body)
# arrives as a space, as in `?changedSince=2026-04-01T20:00:00 01:00`.
_SPACE_FOR_PLUS = re.compile(
    r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?) (\d{2}:?\d{2})$"
)


def instant_to_micros(value: datetime) -> int:
    """An aware datetime as integer microseconds since the Unix epoch (how instants are stored)."""
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def micros_to_instant(micros: int, tz: ZoneInfo | None = None) -> datetime:
    value = EPOCH + timedelta(microseconds=micros)
    return value.astimezone(tz) if tz is not None else value


class InstantTextError(ValueError):
    """Why a text is not an instant: its shape, an impossible date or time, or the range."""

    def __init__(self, reason: Literal["shape", "invalid", "range"]) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_instant(value: object, tz: ZoneInfo, *, date_alone: bool) -> int:
    """ISO 8601 text as microseconds: with an offset or Z, or naive and read in tz.

    With `date_alone`, a bare date (YYYY-MM-DD) is midnight in tz; without it a time is
    required. Raises InstantTextError; each caller words the problem for its own input.
    """
    matched = _INSTANT_TEXT.match(value) if isinstance(value, str) else None
    if matched is None or (not date_alone and matched["time"] is None):
        raise InstantTextError("shape")
    text = matched.string
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), time(0), tzinfo=tz)
        else:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=tz)
    except ValueError:
        raise InstantTextError("invalid") from None
    try:
        # Every instant that exists in UTC and in the client's zone (years 1 to 9999 in
        # both) is accepted: "since 1800", "until 9999-12-31" are common "everything" bounds.
        parsed.astimezone(UTC)
        parsed.astimezone(tz)
    except OverflowError:
        raise InstantTextError("range") from None
    return instant_to_micros(parsed)


# How each reason of an InstantTextError reads in an API answer.
_INPUT_PROBLEMS = {
    "shape": "The {field} must be a date (YYYY-MM-DD) or an ISO 8601 date-time.",
    "invalid": "The {field} is not a valid date or date-time.",
    "range": "The {field} is out of range: it must lie within the years 1 to 9999, "
    "in UTC and in the client's time zone.",
}


def parse_instant_input(value: object, field: str, tz: ZoneInfo) -> int:
    """A date (midnight in tz), a date-time with offset or Z, or a naive date-time in tz.

    API input only: a space before the offset is read as `+` (see _SPACE_FOR_PLUS).
    """
    if isinstance(value, str):
        value = _SPACE_FOR_PLUS.sub(r"\1+\2", value)
    try:
        return parse_instant(value, tz, date_alone=True)
    except InstantTextError as exc:
        problem = _INPUT_PROBLEMS[exc.reason].format(field=field)
        raise InvalidInput.field(field, problem) from None
