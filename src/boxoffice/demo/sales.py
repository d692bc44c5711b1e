"""The sales simulation: two seasons of orders, each seat taken from a real, unsold place.

Every event keeps pools of its unsold places (hall seats row by row for reserved events,
numbered units per rank for unreserved ones, blocked places left out). An order that is live
at the end takes its places out of the pools; a cancelled or trashed one only looks at them,
so its places are sold again later, as happens at a real box office.
"""

import math
import random
import string
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from boxoffice.demo.catalog import PAYMENT_METHODS, DemoEvent, DemoPrice
from boxoffice.demo.chance import between, pick
from boxoffice.demo.people import Customers
from boxoffice.server.orders.tables import LIVE_STATUSES
from boxoffice.server.places.service import seat_key, unit_key

# Column order of `Sale.order` (the writer adds id, tenant_id and customer_id).
ORDER_COLUMNS = (
    "order_key",
    "status",
    "payment_status",
    "channel",
    "order_date_at",
    "time_out_at",
    "payment_method_id",
    "handling_text",
    "discount_name",
    "amount_cents",
    "fee_cents",
    "donation_cents",
    "created_at",
    "last_changed_at",
)
# Column order of `Sale.seats` (the writer adds id, tenant_id and order_id).
SEAT_COLUMNS = (
    "event_id",
    "rank_id",
    "hall_seat_id",
    "row_nr",
    "seat_nr",
    "price_id",
    "price_name",
    "amount_cents",
    "deleted_at",
)

MINUTE = 60_000_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR

# (hall_seat_id, row_nr, seat_nr, place_key): one place, reserved or not.
Place = tuple[int | None, int | None, int | None, str]

_SIZES = (1, 2, 3, 4, 5, 6, 8)
_RESERVED_SIZE_CUM = list(accumulate((22, 52, 8, 12, 2, 3, 1)))
_PARK_SIZE_CUM = list(accumulate((20, 45, 10, 15, 4, 4, 2)))
# A buyer's first choice of rank; the others are tried when it has no room.
_RANK_PREFERENCE = {11: 5, 12: 3.5, 13: 1.5, 21: 8.5, 22: 1.5, 31: 75, 32: 18, 33: 7}
_WWW_METHODS = (1, 2, 3, 4, 5)
_WWW_METHOD_CUM = list(accumulate((72, 12, 3, 8, 5)))
_SP_METHODS = (6, 7, 5)
_SP_METHOD_CUM = list(accumulate((72, 23, 5)))
_INVOICE = 5
_METHODS = {i: (label, fee) for i, label, fee, _channel in PAYMENT_METHODS}
_DONATIONS = (250, 500, 500, 1000, 1000, 1000, 2500, 5000)
# (name, percentage off, cents off per seat)
_DISCOUNTS = (
    ("Vriendenkorting 10%", 10, 0),
    ("Actiecode HERFST", 0, 250),
    ("Personeelskorting", 50, 0),
    ("Groepskorting 15%", 15, 0),
)
# Share of seats (of orders with more than one) removed again later, to reach about 3%.
_REMOVE_SHARE = 0.048
# Random bytes mapped onto letters and digits (the slight bias of 256 % 62 does not matter
# for demo data, and it is much faster than picking 20 characters one by one).
_KEY_TABLE = bytes((string.ascii_letters + string.digits).encode()[b % 62] for b in range(256))
_INVOICE_PAYMENT_CUM = list(accumulate((60, 30, 10)))


class _SeatPool:
    """The unsold seats of one rank at one reserved event, row by row, front rows first."""

    __slots__ = ("left", "next", "open", "rows")

    def __init__(self, rows: list[list[Place]]) -> None:
        self.rows = rows
        self.next = [0] * len(rows)
        self.open = [i for i, row in enumerate(rows) if row]
        self.left = sum(len(row) for row in rows)

    def take(self, rng: random.Random, n: int, consume: bool) -> list[Place] | None:
        if self.left < n:
            return None
        # A party sits together in one of the better rows that still has room for it.
        chosen: int | None = None
        for _ in range(4):
            i = self.open[int(len(self.open) * rng.random() ** 2)]
            if len(self.rows[i]) - self.next[i] >= n:
                chosen = i
                break
        else:
            chosen = next((i for i in self.open if len(self.rows[i]) - self.next[i] >= n), None)
        if chosen is not None:
            seats = self.rows[chosen][self.next[chosen] : self.next[chosen] + n]
            if consume:
                self._advance(chosen, n)
            return seats
        # No row has room for the whole party any more: it sits apart.
        seats = []
        for i in list(self.open):
            got = self.rows[i][self.next[i] : self.next[i] + n - len(seats)]
            seats.extend(got)
            if consume:
                self._advance(i, len(got))
            if len(seats) == n:
                break
        return seats

    def _advance(self, row: int, n: int) -> None:
        self.next[row] += n
        self.left -= n
        if self.next[row] == len(self.rows[row]):
            self.open.remove(row)


class _UnitPool:
    """The unsold units 1..(places - blocked) of one rank at one unreserved event."""

    __slots__ = ("left", "next", "rank_id")

    def __init__(self, rank_id: int, places: int) -> None:
        self.rank_id = rank_id
        self.next = 1
        self.left = places

    def take(self, rng: random.Random, n: int, consume: bool) -> list[Place] | None:
        if self.left < n:
            return None
        units: list[Place] = [
            (None, None, None, unit_key(self.rank_id, u)) for u in range(self.next, self.next + n)
        ]
        if consume:
            self.next += n
            self.left -= n
        return units


@dataclass(slots=True)
class EventSales:
    """One event during the simulation: its pools and how far it sold."""

    event: DemoEvent
    pools: dict[int, _SeatPool | _UnitPool]
    sellable: int
    sold_share: float = 0.0  # of its sales that happen before now, when it sells as planned
    sold: int = 0
    sold_out_at: int | None = None
    rank_ids: list[int] = field(default_factory=list)
    rank_cum: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Sale:
    """One order before it has ids."""

    customer: int | None  # index into Customers
    order: tuple[object, ...]  # ORDER_COLUMNS
    seats: list[tuple[object, ...]]  # SEAT_COLUMNS
    claims: list[tuple[int, str, int]]  # (index into seats, place key, rank id)


HallSeat = tuple[int, int, int, int, int, int]  # id, hall, section, row, seat, rank


def event_sales(events: Sequence[DemoEvent], hall_seats: Sequence[HallSeat]) -> list[EventSales]:
    """The pools of every event: its hall's seats (or its capacity) minus what is blocked."""
    by_hall: dict[int, list[HallSeat]] = {}
    for seat in sorted(hall_seats, key=lambda s: (s[1], s[3], s[2], s[4])):
        by_hall.setdefault(seat[1], []).append(seat)
    found: list[EventSales] = []
    for event in events:
        pools: dict[int, _SeatPool | _UnitPool] = {}
        if event.reserved:
            rows: dict[int, dict[tuple[int, int], list[Place]]] = {}
            for seat_id, _hall, section, row, number, rank in by_hall[event.hall_id]:
                if rank in event.prices and (section, row, number) not in event.blocked_seats:
                    place: Place = (seat_id, row, number, seat_key(seat_id))
                    rows.setdefault(rank, {}).setdefault((section, row), []).append(place)
            for rank, rank_rows in rows.items():
                pools[rank] = _SeatPool(list(rank_rows.values()))
        else:
            for rank, places in event.capacity.items():
                if rank in event.prices:
                    pools[rank] = _UnitPool(rank, places - event.blocked_units.get(rank, 0))
        ranks = sorted(pools)
        found.append(
            EventSales(
                event=event,
                pools=pools,
                sellable=sum(pool.left for pool in pools.values()),
                rank_ids=ranks,
                rank_cum=list(accumulate(_RANK_PREFERENCE[r] for r in ranks)),
            )
        )
    return found


class Simulation:
    """Plans the orders of the whole period, then turns them into sales one by one."""

    def __init__(
        self,
        rng: random.Random,
        key_rng: random.Random,
        events: list[EventSales],
        customers: Customers,
        now: int,
    ) -> None:
        self.rng = rng
        self.key_rng = key_rng
        self.events = events
        self.customers = customers
        self.now = now
        self.dropped = 0
        weights = []
        for sales in events:
            event = sales.event
            if now <= event.sale_start_at:
                sales.sold_share = 0.0
            else:
                elapsed = min(event.start_at, now) - event.sale_start_at
                # Sales pick up towards the performance: the share sold by time x is x².
                sales.sold_share = (elapsed / (event.start_at - event.sale_start_at)) ** 2
            size = 2.4 if event.reserved else 2.6
            weights.append(sales.sellable * event.popularity * sales.sold_share / size)
        self.event_cum = list(accumulate(weights))

    def plan(self, count: int) -> list[tuple[int, int, str]]:
        """(order time, event index, channel) of `count` orders, in time order."""
        rng, now = self.rng, self.now
        planned = []
        for index in rng.choices(range(len(self.events)), cum_weights=self.event_cum, k=count):
            sales = self.events[index]
            event = sales.event
            channel = "sp" if rng.random() < 0.15 else "www"
            if channel == "sp" and event.start_at <= now and rng.random() < 0.5:
                # At the box office on the night itself.
                at = event.start_at - between(rng, 5 * MINUTE, 4 * HOUR)
            else:
                span = event.start_at - event.sale_start_at
                at = event.sale_start_at + int(span * math.sqrt(rng.random() * sales.sold_share))
            planned.append((min(at, now - MINUTE), index, channel))
        planned.sort()
        return planned

    def sell(self, at: int, index: int, channel: str) -> Sale | None:
        """One order at time `at`; None when neither its event nor another has room."""
        rng = self.rng
        released = rng.random() < 0.065  # cancelled or trashed: its places are free again
        reserved_size = self.events[index].event.reserved
        size = pick(rng, _SIZES, _RESERVED_SIZE_CUM if reserved_size else _PARK_SIZE_CUM)
        sales = self.events[index]
        taken = self._take(sales, size, not released, at)
        for _ in range(12):
            if taken is not None:
                break
            # Sold out: the buyer picks another performance that is on sale.
            other = pick(rng, self.events, self.event_cum)
            if other.event.sale_start_at <= at < other.event.start_at:
                sales = other
                taken = self._take(sales, size, not released, at)
        if taken is None:
            self.dropped += 1
            return None
        rank_id, places = taken
        return self._sale(at, channel, released, sales.event, rank_id, places)

    def _take(
        self, sales: EventSales, size: int, consume: bool, at: int
    ) -> tuple[int, list[Place]] | None:
        if not sales.pools:
            return None
        rank_id = pick(self.rng, sales.rank_ids, sales.rank_cum)
        places = sales.pools[rank_id].take(self.rng, size, consume)
        if places is None:
            # The preferred rank is full: the rank with the most room left, if any.
            rank_id = max(sales.rank_ids, key=lambda r: sales.pools[r].left)
            places = sales.pools[rank_id].take(self.rng, size, consume)
            if places is None:
                return None
        if consume:
            sales.sold += size
            if sales.sold_out_at is None and sales.sold >= 0.97 * sales.sellable:
                sales.sold_out_at = at
        return rank_id, places

    def _customer(self, created_at: int, channel: str) -> int | None:
        rng = self.rng
        if rng.random() < (0.6 if channel == "sp" else 0.015):
            return None
        known = bisect_right(self.customers.created_at, created_at)
        if known == 0:
            return None
        # Regulars (the longest-known customers) buy more often than the rest.
        pool = max(1, known // 5) if rng.random() < 0.35 else known
        index = int(rng.random() * pool)
        return None if index in self.customers.erased else index

    def _sale(
        self,
        at: int,
        channel: str,
        released: bool,
        event: DemoEvent,
        rank_id: int,
        places: list[Place],
    ) -> Sale:
        rng, now = self.rng, self.now
        created_at = at - between(rng, 30_000_000, 15 * MINUTE if channel == "www" else 3 * MINUTE)
        customer = self._customer(created_at, channel)
        future = event.start_at > now
        if released:
            status = "cancel" if rng.random() < 0.7 else "trash"
        elif (
            customer is not None
            and channel == "www"
            and at >= now - 6 * DAY
            and event.start_at - 2 * HOUR > now
            and rng.random() < 0.25
        ):
            status = "res"
        elif customer is not None and future and rng.random() < 0.012:
            status = "pros"
        else:
            status = "ord"
        method: int | None = None
        if status not in ("res", "pros"):
            if channel == "www":
                method = pick(rng, _WWW_METHODS, _WWW_METHOD_CUM)
            else:
                method = pick(rng, _SP_METHODS, _SP_METHOD_CUM)
                if method == _INVOICE and customer is None:
                    method = 6  # an invoice needs an address: anonymous buyers pay by card
        payment = "none"
        if status == "ord":
            payment = (
                pick(rng, ("paid", "none", "partial"), _INVOICE_PAYMENT_CUM)
                if method == _INVOICE
                else "paid"
            )
        elif status == "cancel" and method != _INVOICE:
            payment = "refund" if rng.random() < 0.8 else "none"
        label, fee = _METHODS[method] if method is not None else (None, 0)

        discount = None
        if customer is not None and status != "trash" and rng.random() < 0.03:
            # The group discount is for parties of six or more.
            discount = rng.choice(_DISCOUNTS if len(places) >= 6 else _DISCOUNTS[:3])
        prices = event.prices[rank_id]
        price_cum = event.price_cum[rank_id]
        first_price = pick(rng, prices, price_cum)
        last_changed_at = at
        seats: list[tuple[object, ...]] = []
        claims: list[tuple[int, str, int]] = []
        current_cents = 0
        live = status in LIVE_STATUSES
        removable = len(places) > 1 and status != "trash"
        for position, (hall_seat_id, row_nr, seat_nr, key) in enumerate(places):
            price = first_price if rng.random() < 0.75 else pick(rng, prices, price_cum)
            amount = _discounted(price, discount)
            deleted_at = None
            if removable and position > 0 and rng.random() < _REMOVE_SHARE:
                latest = max(at, min(now, event.start_at))
                deleted_at = between(rng, min(at + MINUTE, latest), latest)
                last_changed_at = max(last_changed_at, deleted_at)
            else:
                current_cents += amount
                if live:
                    claims.append((position, key, rank_id))
            seats.append(
                (
                    event.event_id,
                    rank_id,
                    hall_seat_id,
                    row_nr,
                    seat_nr,
                    price.price_id,
                    price.name,
                    amount,
                    deleted_at,
                )
            )
        donation = 0
        if customer is not None and status != "trash" and rng.random() < 0.07:
            donation = rng.choice(_DONATIONS)
        time_out = None
        if status == "res":
            time_out = min(at + 7 * DAY, event.start_at - 2 * HOUR)
        elif status == "cancel":
            last_changed_at = max(
                last_changed_at, between(rng, at, max(at, min(now, event.start_at)))
            )
        elif status == "trash":
            last_changed_at = max(
                last_changed_at, min(now, at + between(rng, 15 * MINUTE, 2 * DAY))
            )
        elif payment in ("paid", "partial") and method == _INVOICE:
            last_changed_at = max(last_changed_at, min(now, at + between(rng, DAY, 14 * DAY)))
        order = (
            self._order_key(),
            status,
            payment,
            channel,
            at,
            time_out,
            method,
            label,
            discount[0] if discount else None,
            current_cents + donation + fee,
            fee,
            donation,
            created_at,
            last_changed_at,
        )
        return Sale(customer=customer, order=order, seats=seats, claims=claims)

    def _order_key(self) -> str:
        """Four groups of five letters and digits, like XgFca-QmBxG-9WhAj-Osszb."""
        chars = self.key_rng.randbytes(20).translate(_KEY_TABLE).decode()
        return f"{chars[:5]}-{chars[5:10]}-{chars[10:15]}-{chars[15:]}"


def _discounted(price: DemoPrice, discount: tuple[str, int, int] | None) -> int:
    if discount is None:
        return price.amount_cents
    _name, percent, off = discount
    return max(0, price.amount_cents * (100 - percent) // 100 - off)
