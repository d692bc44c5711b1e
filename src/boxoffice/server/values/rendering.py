"""Rendering instants and money for JSON, with the caches that make exports fast."""

from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

import orjson

from boxoffice.server.values.instants import EPOCH
from boxoffice.server.values.money import money_text


def _render_instant_slowly(micros: int, tz: ZoneInfo) -> str:
    return (EPOCH + timedelta(microseconds=micros)).astimezone(tz).isoformat(timespec="seconds")


# "MM:SS" for each second of an hour.
_MINUTES_SECONDS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]
# Per zone, per UTC hour (seconds since the epoch // 3600): the local "YYYY-MM-DDTHH:" and the
# offset ("+02:00"), or None when the offset changes within that hour or is not whole hours
# (those instants take the slow path). Bounded: cleared when it grows past _HOURS_KEPT.
_HOURS: dict[tuple[ZoneInfo, int], tuple[str, str] | None] = {}
_HOURS_KEPT = 500_000


def _hour_of(tz: ZoneInfo, hour: int) -> tuple[str, str] | None:
    start = (EPOCH + timedelta(hours=hour)).astimezone(tz)
    end = (EPOCH + timedelta(hours=hour + 1, microseconds=-1)).astimezone(tz)
    offset = start.utcoffset()
    entry: tuple[str, str] | None = None
    if offset is not None and offset == end.utcoffset() and not offset.total_seconds() % 3600:
        text = start.isoformat(timespec="seconds")
        # With a whole-hour offset, local minutes and seconds are the UTC ones.
        entry = (text[:14], text[19:])
    if len(_HOURS) >= _HOURS_KEPT:
        _HOURS.clear()
    _HOURS[tz, hour] = entry
    return entry


def _zone_renderer(tz: ZoneInfo) -> Callable[[int | None], str | None]:
    hours, minutes_seconds, hour_of = _HOURS, _MINUTES_SECONDS, _hour_of

    def render(micros: int | None) -> str | None:
        if micros is None:
            return None
        seconds = micros // 1_000_000
        hour = seconds // 3600
        try:
            entry = hours[tz, hour]
        except KeyError:
            entry = hour_of(tz, hour)
        if entry is None:
            return _render_instant_slowly(micros, tz)
        return entry[0] + minutes_seconds[seconds - hour * 3600] + entry[1]

    return render


class _ZoneRenderers(dict[ZoneInfo, Callable[[int | None], str | None]]):
    """Each zone's renderer, made the first time the zone is looked up (zones are few: one a
    client). A lookup of a known zone is a plain subscript, cheap enough for every row."""

    def __missing__(self, tz: ZoneInfo) -> Callable[[int | None], str | None]:
        render = self[tz] = _zone_renderer(tz)
        return render


ZONE_RENDERERS = _ZoneRenderers()


def instant_renderer(tz: ZoneInfo) -> Callable[[int | None], str | None]:
    """The rendering of instants in `tz`: ISO 8601 with seconds and the zone's UTC offset
    (2026-04-22T13:08:55+02:00); None stays None. One function per zone, made once.

    Exports render millions of these (SQLite, which knows no zones, calls it back for every
    instant of an orders export), so the zone's offset and the local date and hour are
    looked up once per UTC hour and the minutes and seconds come from a table: the same
    text as datetime.isoformat (which the slow path uses) at a fraction of the cost. The
    zone is bound once, not passed per call: a call through a wrapper or functools.partial
    cost 10% more of SQLite's export query.
    """
    return ZONE_RENDERERS[tz]


def render_instant(micros: int, tz: ZoneInfo) -> str:
    """One instant in `tz`, as instant_renderer(tz) renders it (for the few a request shows)."""
    text = instant_renderer(tz)(micros)
    assert text is not None
    return text


# Rendered amounts, shared: a client's prices repeat, and a Fragment is immutable.
_MONEY: dict[int, orjson.Fragment] = {}
_MONEY_KEPT = 100_000


def render_money(cents: int) -> orjson.Fragment:
    """A JSON number with exactly two decimals (49.00), which a float cannot carry."""
    try:
        return _MONEY[cents]
    except KeyError:
        pass
    fragment = orjson.Fragment(money_text(cents).encode())
    if len(_MONEY) >= _MONEY_KEPT:
        _MONEY.clear()
    _MONEY[cents] = fragment
    return fragment
