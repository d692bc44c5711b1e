"""Catalog reads and the one computation of what an event can still sell."""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, RowMapping

from boxoffice.server.catalog import repository
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


def seat_key(hall_seat_id: int) -> str:
    """The place key of a reserved seat in `place_claims`."""
    return f"s{hall_seat_id}"


def unit_key(rank_id: int, unit: int) -> str:
    """The place key of one unit of an unreserved event's capacity in `place_claims`."""
    return f"u{rank_id}:{unit}"


@dataclass(frozen=True, slots=True)
class HallSeat:
    id: int
    section_id: int
    row_nr: int
    seat_nr: int
    rank_id: int


@dataclass(slots=True)
class EventPlaces:
    """An event's places right now: capacity, blocks and live claims (sold or held).

    Reserved events sell the hall's seats of the ranks they have prices for; unreserved
    events sell numbered units 1..(places - blocked) per rank of their capacity.
    """

    event: RowMapping
    prices: Sequence[RowMapping]
    seats: Sequence[HallSeat]
    blocked_seat_ids: frozenset[int]
    capacities: Mapping[int, int]
    blocked_units: Mapping[int, int]
    claimed_keys: frozenset[str]
    claimed_by_rank: Mapping[int, int]
    block_counts: Mapping[str, int]
    price_ranks: frozenset[int] = field(init=False)
    _seats_by_id: dict[int, HallSeat] = field(init=False)

    def __post_init__(self) -> None:
        self.price_ranks = frozenset(int(p["rank_id"]) for p in self.prices)
        self._seats_by_id = {s.id: s for s in self.seats}

    @property
    def reserved(self) -> bool:
        return bool(self.event["seating"] == "reserved")

    def ranks(self) -> list[int]:
        """The ranks availability is reported for."""
        if self.reserved:
            return sorted(self.price_ranks)
        return sorted(self.price_ranks | set(self.capacities))

    def seat(self, hall_seat_id: int) -> HallSeat | None:
        return self._seats_by_id.get(hall_seat_id)

    def seat_is_sellable(self, seat: HallSeat) -> bool:
        """Of a rank the event has prices for, and not blocked."""
        return seat.rank_id in self.price_ranks and seat.id not in self.blocked_seat_ids

    def seat_is_free(self, seat: HallSeat) -> bool:
        return self.seat_is_sellable(seat) and seat_key(seat.id) not in self.claimed_keys

    def free_seats(self, rank_id: int) -> list[HallSeat]:
        return [s for s in self.seats if s.rank_id == rank_id and self.seat_is_free(s)]

    def sellable_units(self, rank_id: int) -> int:
        return max(0, self.capacities.get(rank_id, 0) - self.blocked_units.get(rank_id, 0))

    def free_units(self, rank_id: int) -> list[int]:
        """The lowest free unit numbers, as many as are available."""
        wanted = self.available(rank_id)
        free: list[int] = []
        for unit in range(1, self.sellable_units(rank_id) + 1):
            if len(free) >= wanted:
                break
            if unit_key(rank_id, unit) not in self.claimed_keys:
                free.append(unit)
        return free

    def available(self, rank_id: int) -> int:
        if self.reserved:
            if rank_id not in self.price_ranks:
                return 0
            return sum(1 for s in self.seats if s.rank_id == rank_id and self.seat_is_free(s))
        # A catalog reload can shrink capacity below what is already sold; never negative.
        return max(0, self.sellable_units(rank_id) - self.claimed_by_rank.get(rank_id, 0))

    def total_available(self) -> int:
        return sum(self.available(rank_id) for rank_id in self.ranks())


def load_event_places(
    conn: Connection, *, tenant_id: int, event: RowMapping, now: int
) -> EventPlaces:
    """Read everything availability depends on for one event, as of `now`."""
    event_id = int(event["event_id"])
    prices = repository.list_prices_by_event(conn, tenant_id=tenant_id, event_ids=[event_id]).get(
        event_id, []
    )
    blocks = repository.list_blocks(conn, tenant_id=tenant_id, event_id=event_id)
    claims = repository.list_live_claims(conn, tenant_id=tenant_id, event_id=event_id, now=now)
    block_counts: Counter[str] = Counter()
    for block in blocks:
        block_counts[block["block_type"]] += int(block["places"])
    seats: list[HallSeat] = []
    capacities: dict[int, int] = {}
    blocked_units: Counter[int] = Counter()
    blocked_seat_ids: set[int] = set()
    if event["seating"] == "reserved":
        seats = [
            HallSeat(
                id=row["id"],
                section_id=row["section_id"],
                row_nr=row["row_nr"],
                seat_nr=row["seat_nr"],
                rank_id=row["rank_id"],
            )
            for row in repository.list_hall_seats(
                conn, tenant_id=tenant_id, hall_id=event["hall_id"]
            )
        ]
        blocked_seat_ids = {b["hall_seat_id"] for b in blocks if b["hall_seat_id"] is not None}
    else:
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
    return EventPlaces(
        event=event,
        prices=prices,
        seats=seats,
        blocked_seat_ids=frozenset(blocked_seat_ids),
        capacities=capacities,
        blocked_units=dict(blocked_units),
        claimed_keys=frozenset(key for key, _rank in claims),
        claimed_by_rank=dict(Counter(rank for _key, rank in claims)),
        block_counts=dict(block_counts),
    )


@dataclass(frozen=True, slots=True)
class EventView:
    event: RowMapping
    prices: Sequence[RowMapping]


@dataclass(frozen=True, slots=True)
class ProductionView:
    production: RowMapping
    events: Sequence[EventView]


@dataclass(frozen=True, slots=True)
class SeatPlanView:
    places: EventPlaces
    sections: Sequence[RowMapping]


def end_bound(value: str, field_name: str, tz: ZoneInfo) -> int:
    """The inclusive upper bound of `endDate`: a bare date includes that whole day."""
    instant = parse_instant_input(value, field_name, tz)
    if len(value) != 10:
        return instant
    next_day = date.fromisoformat(value) + timedelta(days=1)
    # Midnight of the next day in the client's zone (DST-safe), minus one microsecond.
    return instant_to_micros(datetime.combine(next_day, time(0), tzinfo=tz)) - 1


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


def get_event(conn: Connection, *, tenant: Tenant, event_id: int) -> RowMapping:
    event = (
        repository.get_event(conn, tenant_id=tenant.id, event_id=event_id)
        if 0 < event_id <= MAX_ID
        else None
    )
    if event is None:
        raise NotFound("Event")
    return event


def get_event_places(conn: Connection, *, tenant: Tenant, event_id: int, now: int) -> EventPlaces:
    event = get_event(conn, tenant=tenant, event_id=event_id)
    return load_event_places(conn, tenant_id=tenant.id, event=event, now=now)


def get_production(conn: Connection, *, tenant: Tenant, production_id: int) -> ProductionView:
    production = (
        repository.get_production(conn, tenant_id=tenant.id, production_id=production_id)
        if 0 < production_id <= MAX_ID
        else None
    )
    if production is None:
        raise NotFound("Production")
    rows = repository.list_events_by_production(
        conn, tenant_id=tenant.id, production_id=production_id
    )
    return ProductionView(production=production, events=_with_prices(conn, tenant.id, rows))


def list_halls(conn: Connection, *, tenant: Tenant) -> list[RowMapping]:
    return repository.list_halls(conn, tenant_id=tenant.id)


def get_hall(conn: Connection, *, tenant: Tenant, hall_id: int) -> RowMapping:
    hall = (
        repository.get_hall(conn, tenant_id=tenant.id, hall_id=hall_id)
        if 0 < hall_id <= MAX_ID
        else None
    )
    if hall is None:
        raise NotFound("Hall")
    return hall


def get_seat_plan(conn: Connection, *, tenant: Tenant, event_id: int, now: int) -> SeatPlanView:
    places = get_event_places(conn, tenant=tenant, event_id=event_id, now=now)
    sections = (
        repository.list_sections(conn, tenant_id=tenant.id, hall_id=places.event["hall_id"])
        if places.reserved
        else []
    )
    return SeatPlanView(places=places, sections=sections)


def list_payment_methods(conn: Connection, *, tenant: Tenant) -> list[RowMapping]:
    return repository.list_payment_methods(conn, tenant_id=tenant.id)


def get_payment_method(conn: Connection, *, tenant: Tenant, payment_method_id: int) -> RowMapping:
    """A payment method named in a request body: unknown is a 422 naming the field."""
    method = (
        repository.get_payment_method(
            conn, tenant_id=tenant.id, payment_method_id=payment_method_id
        )
        if 0 < payment_method_id <= MAX_ID
        else None
    )
    if method is None:
        raise InvalidInput.field(
            "paymentMethodId", f"Payment method {payment_method_id} does not exist."
        )
    return method
