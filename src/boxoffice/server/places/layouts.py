"""What an event offers for sale, cached per process and keyed by the catalog version.

Availability, the seat plan and picking need an event's prices, blocks and capacities and
its hall's seats and sections, with what is made from them once (the place key of each
seat, the hall's rows and their middles). None of it changes without a catalog load, and
every load that changes something moves the client's catalog version in its own
transaction (`catalog.catalog_changed`). So a layout read from the catalog is kept under
the version it was read at, and used only by a request that reads the same version: the
version is read in the same statement as the event (or by one statement of its own), so
the first request after a load's commit reads the new version and the new catalog. Only
`event` (its row, read per request) is ever fresh in a layout handed out.

PostgreSQL reads each statement of a READ COMMITTED transaction at its own snapshot, so a
layout read after the version may be newer than it; never older, so a request never sees
a catalog older than the version it read. Caches are per engine (two databases in one
process, as in the tests, never share an entry) and bounded (least recently used first).
"""

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, RowMapping

from boxoffice.server.catalog import service as catalog
from boxoffice.server.catalog.service import EventLayout, Hall, HallSeat
from boxoffice.server.places.repository import SEAT_KEY_PREFIX, seat_block

# Entries kept per engine. A hall of 2,000 seats with its seat plan pieces takes about a
# megabyte, an event's own layout (prices, blocks, capacities) a few kilobytes; an event's
# entry holds no seats (they are the hall's), so the halls' bound bounds the memory.
MAX_HALLS = 64
MAX_EVENTS = 2048


def seat_key(hall_seat_id: int) -> str:
    """The place key of a reserved seat."""
    return f"{SEAT_KEY_PREFIX}{hall_seat_id}"


@dataclass(frozen=True, slots=True, eq=False, weakref_slot=True)
class HallPlaces:
    """A hall's seats with what is made of them once: `keys[i]` is the place key of
    `hall.seats[i]`, `bits[i]` its (block, bit mask) among the kept sold seats
    (`repository.seat_block`); `rows` are the hall's rows in plan order, each as the
    positions of its seats in `hall.seats` (`position`: a seat id's), and `row_bits` the
    same rows as their seats' bits, (block, mask) per block a row has seats in. Compared by
    identity, and weakly referable: what is made of it per hall (the seat plan's JSON
    pieces, places/resources.py) is kept beside it for as long as it is cached."""

    hall: Hall
    keys: tuple[str, ...] = field(init=False)
    bits: tuple[tuple[int, int], ...] = field(init=False)
    rows: tuple[tuple[int, ...], ...] = field(init=False)
    row_bits: tuple[tuple[tuple[int, int], ...], ...] = field(init=False)
    position: dict[int, int] = field(init=False)

    def __post_init__(self) -> None:
        seats = self.hall.seats
        position = {s.id: i for i, s in enumerate(seats)}
        object.__setattr__(self, "position", position)
        object.__setattr__(self, "keys", tuple(seat_key(s.id) for s in seats))
        object.__setattr__(self, "bits", tuple(seat_block(s.id) for s in seats))
        object.__setattr__(
            self, "rows", tuple(tuple(position[s.id] for s in row) for row in self.hall.rows)
        )
        object.__setattr__(self, "row_bits", tuple(_blocks(row) for row in self.hall.rows))


def _blocks(seats: Iterable[HallSeat]) -> tuple[tuple[int, int], ...]:
    """The seats' bits among the kept sold seats, (block, mask) per block, by block."""
    masks: dict[int, int] = {}
    for seat in seats:
        block, mask = seat_block(seat.id)
        masks[block] = masks.get(block, 0) | mask
    return tuple(sorted(masks.items()))


NO_HALL = HallPlaces(Hall(seats=(), sections=()))


@dataclass(frozen=True, slots=True)
class CachedLayout:
    """An event's layout (with the event row it was asked for) and its hall's places."""

    layout: EventLayout
    hall: HallPlaces


class _Cache:
    """{key: (catalog version, value)}, least recently used first; thread-safe."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Any, ...], tuple[int, Any]] = OrderedDict()

    def get(self, key: tuple[Any, ...], version: int) -> Any:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] != version:
                return None
            self._entries.move_to_end(key)
            return found[1]

    def put(self, key: tuple[Any, ...], version: int, value: Any) -> None:
        with self._lock:
            found = self._entries.get(key)
            # A request that read an older version (in flight during a load) does not
            # replace what was read at a newer one.
            if found is not None and found[0] > version:
                return
            self._entries[key] = (version, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass(frozen=True, slots=True)
class _Caches:
    halls: _Cache = field(default_factory=lambda: _Cache(MAX_HALLS))
    events: _Cache = field(default_factory=lambda: _Cache(MAX_EVENTS))


_caches: "WeakKeyDictionary[Engine, _Caches]" = WeakKeyDictionary()
_caches_lock = threading.Lock()


def _caches_of(conn: Connection) -> _Caches:
    engine = conn.engine
    caches = _caches.get(engine)
    if caches is None:
        with _caches_lock:
            caches = _caches.setdefault(engine, _Caches())
    return caches


def forget(engine: Engine) -> None:
    """Drop every cached layout of an engine (tests that compare with a fresh read)."""
    caches = _caches.get(engine)
    if caches is not None:
        caches.halls.clear()
        caches.events.clear()


def _hall_places(
    conn: Connection, cache: _Cache, tenant_id: int, hall_id: int, version: int
) -> HallPlaces:
    key = (tenant_id, hall_id)
    hall: HallPlaces | None = cache.get(key, version)
    if hall is None:
        hall = HallPlaces(catalog.load_hall(conn, tenant_id=tenant_id, hall_id=hall_id))
        cache.put(key, version, hall)
    return hall


def event_layout(
    conn: Connection, *, tenant_id: int, event: RowMapping, version: int | None = None
) -> CachedLayout:
    """The event's layout as of catalog `version` (read when not given), from the cache
    when it holds that version, else read and kept."""
    if version is None:
        version = catalog.get_catalog_version(conn, tenant_id=tenant_id)
    caches = _caches_of(conn)
    reserved = catalog.is_reserved(event)
    hall_id = int(event["hall_id"])
    hall = _hall_places(conn, caches.halls, tenant_id, hall_id, version) if reserved else NO_HALL
    # The event row's hall and seating are in the key: the row is read per request.
    key = (tenant_id, int(event["event_id"]), hall_id, reserved)
    kept: EventLayout | None = caches.events.get(key, version)
    if kept is None:
        layout = catalog.load_event_layout(conn, tenant_id=tenant_id, event=event, hall=hall.hall)
        # Kept without the hall's seats and sections: they are the hall entry's.
        caches.events.put(key, version, replace(layout, seats=(), sections=()))
        return CachedLayout(layout=layout, hall=hall)
    layout = replace(kept, event=event, seats=hall.hall.seats, sections=hall.hall.sections)
    return CachedLayout(layout=layout, hall=hall)
