"""Catalog reads, and what the catalog offers for sale at an event (its layout)."""

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, RowMapping

from boxoffice.server.catalog import repository
from boxoffice.server.db.transactions import Pipelined
from boxoffice.server.errors import InvalidInput, NotFound
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.values.instants import instant_to_micros, parse_instant_input

# Block types in the contract's order, with the Dutch names the contract gives them.
BLOCK_NAMES: dict[str, str] = {
    "block": "Capaciteit",
    "perf": "Bespeler",
    "ext": "Externe verkoop",
    "group": "Genodigden",
    "press": "Pers",
    "wheel": "Rolstoel",
    "tech": "Techniek",
    "theat": "Theater",
    "sight": "Zichtlijnen",
}


# Catalog ids are 32-bit integers; a larger id in a path cannot exist (and must not reach
# SQLite, which cannot bind integers beyond 64 bits).
MAX_ID = 2_147_483_647


@dataclass(frozen=True, slots=True)
class HallSeat:
    id: int
    section_id: int
    row_nr: int
    seat_nr: int
    rank_id: int


# A row of a hall: (section id, row number).
RowKey = tuple[int, int]


def row_centres(seats: Iterable[HallSeat]) -> dict[RowKey, float]:
    """The middle of each (section, row), from all of its seats whatever their state."""
    bounds: dict[RowKey, tuple[int, int]] = {}
    for seat in seats:
        key = (seat.section_id, seat.row_nr)
        low, high = bounds.get(key, (seat.seat_nr, seat.seat_nr))
        bounds[key] = (min(low, seat.seat_nr), max(high, seat.seat_nr))
    return {key: (low + high) / 2 for key, (low, high) in bounds.items()}


@dataclass(frozen=True, slots=True, eq=False)
class Hall:
    """A hall as the catalog sets it: its seats in plan order (section, row, seat number)
    and its sections by id; and, made once, its seats by id, its rows in plan order (each
    by seat number) and the middle of each row (best-available picking's centres)."""

    seats: tuple[HallSeat, ...]
    sections: tuple[RowMapping, ...]
    by_id: Mapping[int, HallSeat] = field(init=False)
    rows: tuple[tuple[HallSeat, ...], ...] = field(init=False)
    centres: Mapping[RowKey, float] = field(init=False)

    def __post_init__(self) -> None:
        rows: dict[RowKey, list[HallSeat]] = {}
        for seat in self.seats:
            rows.setdefault((seat.section_id, seat.row_nr), []).append(seat)
        object.__setattr__(self, "by_id", {s.id: s for s in self.seats})
        object.__setattr__(
            self,
            "rows",
            tuple(tuple(sorted(rows[key], key=lambda s: s.seat_nr)) for key in sorted(rows)),
        )
        object.__setattr__(self, "centres", row_centres(self.seats))


@dataclass(frozen=True, slots=True)
class EventLayout:
    """What the catalog offers for sale at an event, before any place is claimed.

    Reserved events sell the hall's seats of the ranks they have prices for, less the
    blocked seats; unreserved events sell numbered units 1..(places - blocked) per rank of
    their capacity. places/service.py adds the claims to this to tell what is available.
    `seats` and `sections` are the hall's for a reserved event, empty for an unreserved one.
    Nothing here but `event` changes without a catalog load, which moves the client's
    catalog version: places/layouts.py caches layouts by it.
    """

    event: RowMapping
    prices: Sequence[RowMapping]
    seats: Sequence[HallSeat]
    sections: Sequence[RowMapping]
    blocked_seat_ids: frozenset[int]
    capacities: Mapping[int, int]
    blocked_units: Mapping[int, int]
    block_counts: Mapping[str, int]
    unblocked_seats: Mapping[int, int]
    price_ranks: frozenset[int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "price_ranks", frozenset(int(p["rank_id"]) for p in self.prices))

    @property
    def reserved(self) -> bool:
        return is_reserved(self.event)

    def ranks(self) -> list[int]:
        """The ranks availability is reported for."""
        if self.reserved:
            return sorted(self.price_ranks)
        return sorted(self.price_ranks | set(self.capacities))

    def sellable(self, rank_id: int) -> int:
        """How many places of a rank the event sells, sold or not: the unblocked seats of a
        rank it has prices for (reserved), or its capacity less the blocked units."""
        if self.reserved:
            return self.unblocked_seats.get(rank_id, 0) if rank_id in self.price_ranks else 0
        return max(0, self.capacities.get(rank_id, 0) - self.blocked_units.get(rank_id, 0))


def is_reserved(event: RowMapping) -> bool:
    """Whether an event sells seats of its hall (else places of a capacity)."""
    return bool(event["seating"] == "reserved")


def get_catalog_version(conn: Connection, *, tenant_id: int) -> int:
    """The client's catalog version: what cached layouts are keyed by."""
    return repository.get_catalog_version(conn, tenant_id=tenant_id)


def catalog_changed(conn: Connection, *, tenant_id: int) -> None:
    """Move the client's catalog version on, in the transaction that changed its catalog:
    every writer of the catalog's tables calls this (catalog loading does), so that no
    server goes on using a cached layout of the catalog as it was."""
    repository.update_catalog_version(conn, tenant_id=tenant_id)


def load_hall(conn: Connection, *, tenant_id: int, hall_id: int) -> Hall:
    """A hall's seats and sections, read from the catalog."""
    rows = repository.list_hall_seats(conn, tenant_id=tenant_id, hall_id=hall_id)
    return Hall(
        seats=tuple(
            HallSeat(r["id"], r["section_id"], r["row_nr"], r["seat_nr"], r["rank_id"])
            for r in rows
        ),
        sections=tuple(repository.list_sections(conn, tenant_id=tenant_id, hall_id=hall_id)),
    )


def load_event_layout(
    conn: Connection, *, tenant_id: int, event: RowMapping, hall: Hall | None = None
) -> EventLayout:
    """Read everything of the catalog that availability depends on for one event; a
    reserved event's hall is `hall` when the caller has it (cached), else it is read."""
    event_id = int(event["event_id"])
    prices = repository.list_prices_by_event(conn, tenant_id=tenant_id, event_ids=[event_id]).get(
        event_id, []
    )
    blocks = repository.list_blocks(conn, tenant_id=tenant_id, event_id=event_id)
    block_counts: Counter[str] = Counter()
    for block in blocks:
        block_counts[block["block_type"]] += int(block["places"])
    unblocked_seats: Counter[int] = Counter()
    capacities: dict[int, int] = {}
    blocked_units: Counter[int] = Counter()
    blocked_seat_ids: set[int] = set()
    if is_reserved(event):
        blocked_seat_ids = {b["hall_seat_id"] for b in blocks if b["hall_seat_id"] is not None}
        if hall is None:
            hall = load_hall(conn, tenant_id=tenant_id, hall_id=int(event["hall_id"]))
        unblocked_seats.update(s.rank_id for s in hall.seats if s.id not in blocked_seat_ids)
    else:
        hall = Hall(seats=(), sections=())
        capacities = repository.list_capacities(conn, tenant_id=tenant_id, event_id=event_id)
        unranked = 0
        for block in blocks:
            if block["rank_id"] is None:
                unranked += int(block["places"])
            else:
                blocked_units[block["rank_id"]] += int(block["places"])
        # A block that names no rank takes places from the ranks in rank-id order.
        for rank_id in sorted(capacities):
            taken = min(unranked, max(0, capacities[rank_id] - blocked_units[rank_id]))
            blocked_units[rank_id] += taken
            unranked -= taken
    return EventLayout(
        event=event,
        prices=tuple(prices),
        seats=hall.seats,
        sections=hall.sections,
        blocked_seat_ids=frozenset(blocked_seat_ids),
        capacities=capacities,
        blocked_units=dict(blocked_units),
        block_counts=dict(block_counts),
        unblocked_seats=dict(unblocked_seats),
    )


@dataclass(frozen=True, slots=True)
class EventView:
    event: RowMapping
    prices: Sequence[RowMapping]


@dataclass(frozen=True, slots=True)
class ProductionView:
    production: RowMapping
    events: Sequence[EventView]


def end_bound(value: str, field_name: str, tz: ZoneInfo) -> int:
    """The inclusive upper bound of `endDate`: a bare date includes that whole day."""
    instant = parse_instant_input(value, field_name, tz)
    if len(value) != 10:
        return instant
    day = date.fromisoformat(value)
    if day == date.max:
        # There is no next day: the last microsecond of this one (no DST change at midnight).
        return instant_to_micros(datetime.combine(day, time.max, tzinfo=tz))
    # Midnight of the next day in the client's zone (DST-safe), minus one microsecond.
    return instant_to_micros(datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)) - 1


def _with_prices(conn: Connection, tenant_id: int, rows: Sequence[RowMapping]) -> list[EventView]:
    prices = repository.list_prices_by_event(
        conn, tenant_id=tenant_id, event_ids=[r["event_id"] for r in rows]
    )
    return [EventView(event=r, prices=prices.get(r["event_id"], [])) for r in rows]


def list_events(
    conn: Connection, *, tenant: Tenant, start_date: str | None, end_date: str | None
) -> list[EventView]:
    # An empty parameter (`?startDate=`) means no bound, as an absent one does.
    start_min = (
        parse_instant_input(start_date, "startDate", tenant.timezone) if start_date else None
    )
    start_max = end_bound(end_date, "endDate", tenant.timezone) if end_date else None
    rows = repository.list_events(
        conn, tenant_id=tenant.id, start_min=start_min, start_max=start_max
    )
    return _with_prices(conn, tenant.id, rows)


def find_event(conn: Connection, *, tenant_id: int, event_id: int) -> RowMapping | None:
    if not 0 < event_id <= MAX_ID:
        return None
    return repository.get_event(conn, tenant_id=tenant_id, event_id=event_id)


def get_event(conn: Connection, *, tenant: Tenant, event_id: int) -> RowMapping:
    event = find_event(conn, tenant_id=tenant.id, event_id=event_id)
    if event is None:
        raise NotFound("Event")
    return event


def get_event_and_version(
    conn: Connection, *, tenant: Tenant, event_id: int
) -> tuple[RowMapping, int]:
    """The event (404 for no such id) and the client's catalog version, in one statement."""
    found = (
        repository.get_event_and_version(conn, tenant_id=tenant.id, event_id=event_id)
        if 0 < event_id <= MAX_ID
        else None
    )
    if found is None:
        raise NotFound("Event")
    return found


def lock_events(
    conn: Connection, *, tenant_id: int, event_ids: Collection[int]
) -> tuple[dict[int, RowMapping], int]:
    """Serialise changes per event until commit (claiming its places, say), locking in
    ascending id order so that two transactions never deadlock: the events as locked, and
    the client's catalog version (the key of the cached layouts), read by the same
    statement."""
    return repository.lock_events(conn, tenant_id=tenant_id, event_ids=event_ids)


def lock_event_then(
    conn: Connection, *, tenant_id: int, event_id: int, then: Sequence[Pipelined]
) -> tuple[dict[int, RowMapping], int, list[list[RowMapping]]]:
    """PostgreSQL: `lock_events` of one event with `then` sent in the same round trip, run
    as soon as the lock is granted (reading what its last holder committed): what
    `lock_events` returns, and the rows of each statement of `then`."""
    return repository.lock_event_then(conn, tenant_id=tenant_id, event_id=event_id, then=then)


def list_prices_by_ids(
    conn: Connection,
    *,
    tenant_id: int,
    price_ids: Collection[str],
    found: Sequence[RowMapping] | None = None,
) -> dict[str, RowMapping]:
    """{price id: its price} of those that exist; with `found`, the rows of
    `prices_by_ids_sent`'s statement, nothing is read."""
    if found is not None:
        return {str(row["price_id"]): row for row in found}
    return repository.list_prices_by_ids(conn, tenant_id=tenant_id, price_ids=price_ids)


def prices_by_ids_sent(*, tenant_id: int, price_ids: Collection[str]) -> Pipelined:
    """PostgreSQL: the read of `list_prices_by_ids` as a statement to send in a pipeline
    (db/transactions.py, run_pipelined), whose rows are then passed to it as `found`."""
    return repository.prices_by_ids_sent(tenant_id=tenant_id, price_ids=price_ids)


def is_hall_seat_blocked(
    conn: Connection, *, tenant_id: int, event_id: int, hall_seat_id: int
) -> bool:
    return repository.is_hall_seat_blocked(
        conn, tenant_id=tenant_id, event_id=event_id, hall_seat_id=hall_seat_id
    )


def count_sellable_units(conn: Connection, *, tenant_id: int, event_id: int, rank_id: int) -> int:
    """An unreserved event's places of a rank, less those blocked from sale."""
    return repository.count_sellable_units(
        conn, tenant_id=tenant_id, event_id=event_id, rank_id=rank_id
    )


def _found(what: str, catalog_id: int, read: Callable[[], RowMapping | None]) -> RowMapping:
    """The row `read` finds; a 404 for `what` when there is none or the id is out of range."""
    row = read() if 0 < catalog_id <= MAX_ID else None
    if row is None:
        raise NotFound(what)
    return row


def get_production(conn: Connection, *, tenant: Tenant, production_id: int) -> ProductionView:
    production = _found(
        "Production",
        production_id,
        lambda: repository.get_production(conn, tenant_id=tenant.id, production_id=production_id),
    )
    rows = repository.list_events_by_production(
        conn, tenant_id=tenant.id, production_id=production_id
    )
    return ProductionView(production=production, events=_with_prices(conn, tenant.id, rows))


def list_halls(conn: Connection, *, tenant: Tenant) -> list[RowMapping]:
    return repository.list_halls(conn, tenant_id=tenant.id)


def get_hall(conn: Connection, *, tenant: Tenant, hall_id: int) -> RowMapping:
    return _found(
        "Hall", hall_id, lambda: repository.get_hall(conn, tenant_id=tenant.id, hall_id=hall_id)
    )


def list_payment_methods(conn: Connection, *, tenant: Tenant) -> list[RowMapping]:
    return repository.list_payment_methods(conn, tenant_id=tenant.id)


def payment_method_sent(*, tenant: Tenant, payment_method_id: int) -> Pipelined | None:
    """PostgreSQL: the read of `get_payment_method` as a statement to send in a pipeline
    (db/transactions.py, run_pipelined), whose rows are then passed to it as `found`; None
    when the id cannot be a payment method's (nothing to read)."""
    if not 0 < payment_method_id <= MAX_ID:
        return None
    return repository.payment_method_sent(tenant_id=tenant.id, payment_method_id=payment_method_id)


def get_payment_method(
    conn: Connection,
    *,
    tenant: Tenant,
    payment_method_id: int,
    found: Sequence[RowMapping] | None = None,
) -> RowMapping:
    """A payment method named in a request body: unknown is a 422 naming the field. With
    `found`, the rows of `payment_method_sent`'s statement, nothing is read."""
    if found is not None:
        method = found[0] if found else None
    elif 0 < payment_method_id <= MAX_ID:
        method = repository.get_payment_method(
            conn, tenant_id=tenant.id, payment_method_id=payment_method_id
        )
    else:
        method = None
    if method is None:
        raise InvalidInput.field(
            "paymentMethodId", f"Payment method {payment_method_id} does not exist."
        )
    return method


@dataclass(frozen=True, slots=True)
class PlaceLabels:
    """The names a ticket shows: its event, hall, section and rank."""

    events: Mapping[int, RowMapping]
    hall_names: Mapping[int, str]
    section_names: Mapping[int, str]
    rank_names: Mapping[int, str]

    def section_of(self, hall_seat_id: int | None) -> str | None:
        return None if hall_seat_id is None else self.section_names.get(hall_seat_id)

    def hall_of(self, event_id: int) -> str | None:
        event = self.events.get(event_id)
        return None if event is None else self.hall_names.get(int(event["hall_id"]))


def get_place_labels(
    conn: Connection, *, tenant: Tenant, event_ids: Collection[int], hall_seat_ids: Collection[int]
) -> PlaceLabels:
    """Names for rendering tickets of these events and hall seats (one query each)."""
    return PlaceLabels(
        events=repository.list_events_by_ids(conn, tenant_id=tenant.id, event_ids=event_ids),
        hall_names=repository.list_hall_names(conn, tenant_id=tenant.id),
        section_names=repository.list_section_names_of_seats(
            conn, tenant_id=tenant.id, hall_seat_ids=hall_seat_ids
        ),
        rank_names=repository.list_rank_names(conn, tenant_id=tenant.id),
    )


def get_price(conn: Connection, *, tenant: Tenant, price_id: str, field_name: str) -> RowMapping:
    """A price named in a request body: unknown is a 422 naming the field."""
    found = repository.list_prices_by_ids(conn, tenant_id=tenant.id, price_ids={price_id})
    price = found.get(price_id)
    if price is None:
        raise InvalidInput.field(field_name, f"Ticket type {price_id!r} does not exist.")
    return price


def list_event_prices(conn: Connection, *, tenant: Tenant, event_id: int) -> list[RowMapping]:
    return list(
        repository.list_prices_by_event(conn, tenant_id=tenant.id, event_ids=[event_id]).get(
            event_id, []
        )
    )
