"""Places: the keys of places, holds and sales of them, their release and expiry, and what
an event can still sell.

A place that is held by a cart or sold in a live order has one `place_claims` row, unique
per (client, event, place key), so that no place is ever taken twice whatever the
concurrency: a loser of a race gets False and picks again. A hold has a cart item and an
expiry; a sale has an order seat and no expiry. An expired hold no longer counts, and is
deleted before its place is claimed again. An unpaid reservation's sales expire like
holds (payments/). Features call this module, never its SQL.
"""

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import Connection, Insert, RowMapping, Select, Update

from boxoffice.server.catalog import service as catalog
from boxoffice.server.catalog.service import HallSeat
from boxoffice.server.db.transactions import Pipelined
from boxoffice.server.errors import NotFound
from boxoffice.server.places import layouts, repository
from boxoffice.server.places.layouts import HallPlaces
from boxoffice.server.places.layouts import seat_key as seat_key
from boxoffice.server.places.repository import FirstReads as FirstReads
from boxoffice.server.places.repository import LockedHold as LockedHold
from boxoffice.server.places.repository import NewHold as NewHold
from boxoffice.server.tenancy.service import Tenant


def unit_key(rank_id: int, unit: int) -> str:
    """The place key of one unit of an unreserved event's capacity of a rank."""
    return f"{unit_key_prefix(rank_id)}{unit}"


def unit_key_prefix(rank_id: int) -> str:
    """The start of every unit key of a rank."""
    return f"u{rank_id}:"


@dataclass(frozen=True, slots=True)
class EventCounts(catalog.EventLayout):
    """An event's availability right now: the catalog's layout and how many of its sellable
    places per rank are claimed live (sold, or held by an unexpired hold)."""

    claimed_by_rank: Mapping[int, int]

    def available(self, rank_id: int) -> int:
        # A catalog reload can shrink capacity below what is already sold; never negative.
        return max(0, self.sellable(rank_id) - self.claimed_by_rank.get(rank_id, 0))

    def total_available(self) -> int:
        return sum(self.available(rank_id) for rank_id in self.ranks())


@dataclass(frozen=True, slots=True)
class EventPlaces(EventCounts):
    """An event's places right now, seat by seat: the layout with the hall's seats (and
    what is made of them, cached with the layout), the keys of the live claims read one by
    one (an unreserved event's every live claim, a reserved event's claims that expire)
    and a reserved event's sold seats as kept bits ({block: bits}): what seat picking and
    the seat plan need, at a cost that is the hall's whatever is sold."""

    claimed_keys: frozenset[str]
    hall: HallPlaces
    sold_blocks: Mapping[int, int] = field(default_factory=dict)
    # Per seat of the hall, in its order: claimed live (made when first asked for).
    _taken: list[bool] | None = field(init=False, default=None)
    # Of a reserved event: its sellable seats claimed live, per the seat's rank (counted
    # when first asked for).
    _claimed_seats: Mapping[int, int] | None = field(init=False, default=None)

    def taken_seats(self) -> list[bool]:
        """Whether each seat of the hall (`hall.hall.seats`, same order) is claimed live."""
        if self._taken is None:
            keys, sold = self.claimed_keys, self.sold_blocks.get
            taken = [
                key in keys or bool(sold(block, 0) & mask)
                for key, (block, mask) in zip(self.hall.keys, self.hall.bits, strict=True)
            ]
            object.__setattr__(self, "_taken", taken)
        return self._taken or []

    def _claimed_sellable_seats(self) -> Mapping[int, int]:
        if self._claimed_seats is None:
            claimed = Counter(
                seat.rank_id
                for seat, taken in zip(self.hall.hall.seats, self.taken_seats(), strict=True)
                if taken and self.seat_is_sellable(seat)
            )
            object.__setattr__(self, "_claimed_seats", claimed)
        return self._claimed_seats or {}

    def seat(self, hall_seat_id: int) -> HallSeat | None:
        return self.hall.hall.by_id.get(hall_seat_id)

    def seat_is_sellable(self, seat: HallSeat) -> bool:
        """Of a rank the event has prices for, and not blocked."""
        return seat.rank_id in self.price_ranks and seat.id not in self.blocked_seat_ids

    def seat_is_free(self, seat: HallSeat) -> bool:
        """A seat of the hall that is sellable and not claimed live."""
        return self.seat_is_sellable(seat) and not self.taken_seats()[self.hall.position[seat.id]]

    def free_seats(self, rank_id: int) -> list[HallSeat]:
        """The rank's free seats, in plan order."""
        if rank_id not in self.price_ranks:
            return []
        blocked = self.blocked_seat_ids
        return [
            seat
            for seat, taken in zip(self.hall.hall.seats, self.taken_seats(), strict=True)
            if seat.rank_id == rank_id and not taken and seat.id not in blocked
        ]

    def free_rows(self, rank_id: int) -> Iterator[list[HallSeat]]:
        """The rank's free seats row by row, the rows in plan order (front to back), each
        by seat number; made as they are asked for, so that a picker that stops at the
        first row it can use builds no list behind it (whether each seat is taken is
        decided once for the whole hall, `taken_seats`: a bit test a seat)."""
        if rank_id not in self.price_ranks:
            return
        seats, blocked = self.hall.hall.seats, self.blocked_seat_ids
        if self._taken is not None:
            taken = self._taken
            for row in self.hall.rows:
                yield [
                    seats[i]
                    for i in row
                    if seats[i].rank_id == rank_id and not taken[i] and seats[i].id not in blocked
                ]
            return
        # Not decided for the whole hall (a hold's pick, which stops at the first row it
        # can use): a row whose every seat is sold is told by its blocks' bits, a test or
        # two, instead of a test a seat, the rows ahead of it being the sold ones when a
        # sale fills the hall from the front.
        keys, bits, claimed, sold = (
            self.hall.keys,
            self.hall.bits,
            self.claimed_keys,
            self.sold_blocks.get,
        )
        for row, row_bits in zip(self.hall.rows, self.hall.row_bits, strict=True):
            if all(sold(block, 0) & mask == mask for block, mask in row_bits):
                yield []
                continue
            yield [
                seats[i]
                for i in row
                if seats[i].rank_id == rank_id
                and keys[i] not in claimed
                and not sold(bits[i][0], 0) & bits[i][1]
                and seats[i].id not in blocked
            ]

    def free_units(self, rank_id: int) -> list[int]:
        """The lowest free unit numbers, as many as are available."""
        wanted = self.available(rank_id)
        free: list[int] = []
        for unit in range(1, self.sellable(rank_id) + 1):
            if len(free) >= wanted:
                break
            if unit_key(rank_id, unit) not in self.claimed_keys:
                free.append(unit)
        return free

    def available(self, rank_id: int) -> int:
        """A reserved event's free seats of the rank, counted from the claims: its sellable
        seats of the rank less those of them claimed (the claim's own rank aside)."""
        if self.reserved:
            return self.sellable(rank_id) - self._claimed_sellable_seats().get(rank_id, 0)
        return EventCounts.available(self, rank_id)


def _layout_fields(layout: catalog.EventLayout) -> dict[str, object]:
    return {f.name: getattr(layout, f.name) for f in fields(layout) if f.init}


def event_places(
    conn: Connection,
    *,
    tenant_id: int,
    event: RowMapping,
    now: int,
    catalog_version: int | None = None,
    expire: bool = False,
    found: FirstReads | None = None,
) -> EventPlaces:
    """The event's places as of `now`: the catalog's layout with the hall's seats (cached by
    the catalog version, read when not given) and its live claims (sales and unexpired
    holds): for seat picking and the seat plan. A reserved event's sales are read as the
    kept bits of its sold seats (their cost does not grow with the seats sold); an
    unreserved event's claims are read one by one (the fallback of `probe_free_units`).
    `event_counts` tells availability without reading the claims. With `expire` the
    event's expired holds are deleted first (a claimer's first read of the event, under its
    lock: `expire_holds`, in the same statement on PostgreSQL). With `found` (what the
    first reads found, sent with the event's lock: `first_reads`) its expired holds are
    deleted already, and a reserved event's claims are not read again."""
    cached = layouts.event_layout(conn, tenant_id=tenant_id, event=event, version=catalog_version)
    event_id = int(event["event_id"])
    if cached.layout.reserved:
        # Seat by seat: the kept sold seats and the claims that expire (a reserved event's
        # availability is its free seats).
        taken = (
            repository.read_taken_seats(
                conn, tenant_id=tenant_id, event_id=event_id, now=now, expire=expire
            )
            if found is None
            else found.taken
        )
        return EventPlaces(
            **_layout_fields(cached.layout),  # type: ignore[arg-type]
            claimed_keys=taken.expiring_keys,
            claimed_by_rank={},
            hall=cached.hall,
            sold_blocks=taken.sold_blocks,
        )
    if expire:
        expire_holds(conn, tenant_id=tenant_id, event_id=event_id, now=now)
    claims = repository.list_live_claims(conn, tenant_id=tenant_id, event_id=event_id, now=now)
    return EventPlaces(
        **_layout_fields(cached.layout),  # type: ignore[arg-type]
        claimed_keys=frozenset(key for key, _rank in claims),
        claimed_by_rank=dict(Counter(rank for _key, rank in claims)),
        hall=cached.hall,
    )


def event_counts(
    conn: Connection,
    *,
    tenant_id: int,
    event: RowMapping,
    now: int,
    catalog_version: int | None = None,
    expire: bool = False,
    found: FirstReads | None = None,
) -> EventCounts:
    """The event's availability as of `now`, without reading its claims one by one: the
    catalog's layout (cached by the catalog version, read when not given), the sales
    counted in place_counts, the live claims that expire (only those rows are read), and
    for a reserved event the live claims on its blocked seats (one probe a blocked seat),
    which are not of its sellable places. Its cost does not grow with the places sold
    (docs/development.md, "Places"). With `expire` the event's expired holds are deleted
    first, as by `event_places`; with `found`, as by `event_places` too."""
    claimed = (
        repository.count_live_claims(
            conn, tenant_id=tenant_id, event_id=int(event["event_id"]), now=now, expire=expire
        )
        if found is None
        else Counter(found.live)
    )
    return _counts(conn, tenant_id, event, catalog_version, claimed, now)


def _counts(
    conn: Connection,
    tenant_id: int,
    event: RowMapping,
    catalog_version: int | None,
    claimed: Counter[int],
    now: int,
) -> EventCounts:
    """The event's availability from its live claims per rank (`count_live_claims`)."""
    event_id = int(event["event_id"])
    layout = layouts.event_layout(
        conn, tenant_id=tenant_id, event=event, version=catalog_version
    ).layout
    if layout.reserved and layout.blocked_seat_ids:
        claimed.subtract(
            repository.count_live_claims_of_places(
                conn,
                tenant_id=tenant_id,
                event_id=event_id,
                place_keys=[seat_key(seat_id) for seat_id in layout.blocked_seat_ids],
                now=now,
            )
        )
    return EventCounts(**_layout_fields(layout), claimed_by_rank=dict(claimed))  # type: ignore[arg-type]


# Probing for free units of an unreserved event: how many windows, and a window's size.
PROBE_WINDOWS = 4
PROBE_WINDOW_MIN = 32


def probe_free_units(
    conn: Connection, *, tenant_id: int, counts: EventCounts, rank_id: int, count: int
) -> list[int] | None:
    """`count` free units of an unreserved event's rank, found without reading its claims:
    candidate unit numbers are probed through the claims' unique key, a window at a time,
    from just above the number of live claims of the rank upwards, where the free units are
    while a sale fills the event from unit 1. None when a few windows hold too few free
    units (holes that releases left lower down): the caller then reads every claim
    (`event_places`). Expired holds must have been deleted first (`expire_holds`); a claim
    found is taken whatever its expiry. Any free unit will do: an unreserved place is not a
    particular one (`claim_any_unit`)."""
    sellable = counts.sellable(rank_id)
    window = max(4 * count, PROBE_WINDOW_MIN)
    start = counts.claimed_by_rank.get(rank_id, 0) + 1
    free: list[int] = []
    for _window in range(PROBE_WINDOWS):
        if start > sellable:
            break
        candidates = {
            unit_key(rank_id, unit): unit
            for unit in range(start, min(start + window, sellable + 1))
        }
        taken = repository.list_claimed_among(
            conn, tenant_id=tenant_id, event_id=int(counts.event["event_id"]), place_keys=candidates
        )
        free.extend(unit for key, unit in candidates.items() if key not in taken)
        if len(free) >= count:
            return free[:count]
        start += window
    return None


def count_available(conn: Connection, *, tenant_id: int, event: RowMapping, now: int) -> int:
    """How many places the event can still sell now (the public catalog's figure)."""
    return event_counts(conn, tenant_id=tenant_id, event=event, now=now).total_available()


def get_event_counts(conn: Connection, *, tenant: Tenant, event_id: int, now: int) -> EventCounts:
    """An event's availability (404 for an event of no such id): the event, its catalog
    version and its live claims read in one statement."""
    found = (
        repository.read_event_and_live_claims(conn, tenant_id=tenant.id, event_id=event_id, now=now)
        if 0 < event_id <= catalog.MAX_ID
        else None
    )
    if found is None:
        raise NotFound("Event")
    event, claimed = found
    return _counts(conn, tenant.id, event, int(event["catalog_version"]), claimed, now)


def get_event_places(conn: Connection, *, tenant: Tenant, event_id: int, now: int) -> EventPlaces:
    """An event's places (404 for an event of no such id)."""
    event, version = catalog.get_event_and_version(conn, tenant=tenant, event_id=event_id)
    return event_places(conn, tenant_id=tenant.id, event=event, now=now, catalog_version=version)


@dataclass(frozen=True, slots=True)
class SeatPlanView:
    places: EventPlaces
    sections: Sequence[RowMapping]


def get_seat_plan(conn: Connection, *, tenant: Tenant, event_id: int, now: int) -> SeatPlanView:
    """The hall plan with each seat's availability (no sections when unreserved)."""
    places = get_event_places(conn, tenant=tenant, event_id=event_id, now=now)
    return SeatPlanView(places=places, sections=places.sections)


def recount(conn: Connection, *, tenant_id: int, event_ids: Collection[int]) -> None:
    """Set the kept counts of these events from their claims, for a writer that inserted
    claims in bulk (the demo); every other change of a claim keeps them itself."""
    repository.recount(conn, tenant_id=tenant_id, event_ids=event_ids)


# Holds: a cart's claims, with an expiry.


def expire_holds(conn: Connection, *, tenant_id: int, event_id: int, now: int) -> None:
    """Delete the event's expired holds, before its places are claimed again."""
    repository.delete_expired_holds(conn, tenant_id=tenant_id, event_id=event_id, now=now)


def hold(conn: Connection, *, tenant_id: int, holds: Sequence[NewHold], expires_at: int) -> bool:
    """Hold every place until `expires_at`, or none: False when one of them was claimed
    concurrently (nothing of this call remains; the caller may pick other places)."""
    return repository.insert_holds(conn, tenant_id=tenant_id, holds=holds, expires_at=expires_at)


def first_reads(*, tenant_id: int, event_id: int, now: int) -> list[Pipelined]:
    """PostgreSQL: a claimer's first reads of an event (its expired holds deleted), to send
    with the event's lock (catalog.lock_event_then); `first_reads_found` reads their rows,
    and `event_places` and `event_counts` take what they found instead of reading again."""
    return repository.first_reads(tenant_id=tenant_id, event_id=event_id, now=now)


def first_reads_found(rows: Sequence[Sequence[RowMapping]]) -> FirstReads:
    return repository.first_reads_found(rows)


def holds_insert_from(source: Select[Any]) -> Insert:
    """The INSERT that `hold` makes, its rows selected by `source` (the columns of
    places.repository.HOLD_COLUMNS, in that order), ON CONFLICT DO NOTHING and RETURNING
    the cart item of each hold made; PostgreSQL. For a statement of another feature that
    inserts its own rows and their holds in one round trip (carts.repository)."""
    return repository.holds_insert_from(source)


def holds_insert_or_fail_from(source: Select[Any]) -> Insert:
    """`holds_insert_from` for a statement sent with the transaction's COMMIT: a place
    claimed already fails the statement (and so the COMMIT) instead of being skipped."""
    return repository.holds_insert_or_fail_from(source)


def extend_holds(
    conn: Connection, *, tenant_id: int, cart_item_ids: Collection[int], expires_at: int
) -> int:
    """Move the holds of these cart items to `expires_at`; how many holds there are."""
    return repository.update_hold_expiry(
        conn, tenant_id=tenant_id, cart_item_ids=cart_item_ids, expires_at=expires_at
    )


def release_holds(conn: Connection, *, tenant_id: int, cart_item_ids: Collection[int]) -> None:
    repository.delete_holds(conn, tenant_id=tenant_id, cart_item_ids=cart_item_ids)


def lock_live_holds(
    conn: Connection, *, tenant_id: int, cart_item_ids: Collection[int], now: int
) -> dict[int, LockedHold]:
    """{cart item id: its hold} of these items' unexpired holds, row-locked until commit.

    The lock keeps a concurrent claimer from deleting a hold (as expired) while a checkout
    turns it into a sale.
    """
    return repository.lock_live_holds(
        conn, tenant_id=tenant_id, cart_item_ids=cart_item_ids, now=now
    )


def live_holds_sent(*, tenant_id: int, cart_item_ids: Pipelined, now: int) -> Pipelined:
    """`lock_live_holds` as a statement to send in a pipeline, for the cart items whose ids
    `cart_item_ids` selects (a SELECT of one column and its values); `locked_holds` reads
    its rows."""
    return repository.live_holds_sent(tenant_id=tenant_id, cart_item_ids=cart_item_ids, now=now)


def locked_holds(rows: Iterable[RowMapping]) -> dict[int, LockedHold]:
    """{cart item id: its hold} from the rows of `live_holds_sent`'s statement."""
    return repository.locked_holds(rows)


# Sales: an order seat's claims, without expiry.


def sell(
    conn: Connection,
    *,
    tenant_id: int,
    sales: Sequence[tuple[LockedHold, int]],
    reserved_until: int | None = None,
    last: bool = False,
) -> None:
    """Turn locked holds into sales: (hold, order seat id) pairs. With
    `reserved_until` they are a reservation's: the places are free again the moment it
    passes, unless `keep_reserved` made them sales first. `last`: the sale is the write
    transaction's last work, and on PostgreSQL its COMMIT is sent with the sale's
    statements (nothing may run on the connection afterwards)."""
    repository.update_claims_sold(
        conn, tenant_id=tenant_id, sales=sales, expires_at=reserved_until, last=last
    )


def claims_sold_from(tenant_id: int, sales: Select[Any]) -> Update:
    """The UPDATE that `sell` makes of the claims, its sales selected by `sales` (the
    columns of places.repository.SALE_COLUMNS: a locked hold's claim id, the order seat it
    is sold to), each expiring at the value bound as `p_until` (None: a sale); PostgreSQL.
    For a statement of another feature that inserts its order seats and sells them their
    places in one (orders.repository); what is kept of the sales follows (sales_kept_sent)."""
    return repository.claims_sold_from(tenant_id, sales)


def sales_kept_sent(
    *, tenant_id: int, holds: Sequence[LockedHold], reserved_until: int | None = None
) -> list[Pipelined]:
    """PostgreSQL: what `sell` keeps of the sales of these holds (a reservation's:
    nothing), as statements to send in a pipeline after the claims' update, last: the
    counts' rows are locked from then until commit."""
    return repository.sales_kept_sent(tenant_id=tenant_id, holds=holds, expires_at=reserved_until)


def keep_reserved(
    conn: Connection, *, tenant_id: int, order_seat_ids: Collection[int], now: int
) -> bool:
    """A paid reservation's places become sales without expiry; False (and nothing
    changed) when one of them has expired already or was taken as expired."""
    live = repository.lock_live_claims_of_seats(
        conn, tenant_id=tenant_id, seat_ids=order_seat_ids, now=now
    )
    if live != len(order_seat_ids):
        return False
    repository.update_claims_without_expiry(conn, tenant_id=tenant_id, seat_ids=order_seat_ids)
    return True


def release_sales(conn: Connection, *, tenant_id: int, order_seat_ids: Collection[int]) -> None:
    """Free the places sold to these order seats."""
    repository.delete_claims_of_seats(conn, tenant_id=tenant_id, seat_ids=order_seat_ids)


def claim_seat(
    conn: Connection,
    *,
    tenant_id: int,
    event_id: int,
    hall_seat_id: int,
    rank_id: int,
    order_seat_id: int,
    now: int,
) -> bool:
    """Sell a reserved seat to an order seat again; False when it is taken."""
    key = seat_key(hall_seat_id)
    repository.delete_expired_holds(
        conn, tenant_id=tenant_id, event_id=event_id, now=now, place_key=key
    )
    return _sell(conn, tenant_id, event_id, key, rank_id, order_seat_id)


def claim_any_unit(
    conn: Connection,
    *,
    tenant_id: int,
    event_id: int,
    rank_id: int,
    units: int,
    order_seat_id: int,
    now: int,
) -> bool:
    """Sell any free one of units 1..`units` of a rank to an order seat; False when none is
    free. An unreserved seat never owned a particular unit, so any will do."""
    prefix = unit_key_prefix(rank_id)
    repository.delete_expired_holds(
        conn, tenant_id=tenant_id, event_id=event_id, now=now, place_key_prefix=prefix
    )
    taken = repository.list_claimed_place_keys(
        conn, tenant_id=tenant_id, event_id=event_id, place_key_prefix=prefix
    )
    for unit in range(1, units + 1):
        key = unit_key(rank_id, unit)
        # insert_claim can still lose a race for this unit on PostgreSQL: try the next one.
        if key not in taken and _sell(conn, tenant_id, event_id, key, rank_id, order_seat_id):
            return True
    return False


def _sell(
    conn: Connection, tenant_id: int, event_id: int, key: str, rank_id: int, order_seat_id: int
) -> bool:
    """Claim one place for an order seat, without expiry; False when it is taken."""
    return repository.insert_claim(
        conn,
        tenant_id=tenant_id,
        event_id=event_id,
        place_key=key,
        rank_id=rank_id,
        order_seat_id=order_seat_id,
    )
