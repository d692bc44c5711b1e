"""Demo waiting list: customers waiting for sold-out performances, some notified, some served."""

import random
from bisect import bisect_right
from itertools import accumulate

from boxoffice.demo.chance import between, pick
from boxoffice.demo.people import Customers
from boxoffice.demo.sales import DAY, MINUTE, EventSales

# Column order of the rows made here (the writer adds id and tenant_id, and maps the
# customer index of the first column to its id).
WAITING_COLUMNS = (
    "customer_id",
    "event_id",
    "number_of_tickets",
    "type",
    "created_at",
    "notified_at",
    "last_changed_at",
)
# customer index, event id, tickets, type, created_at, notified_at, last_changed_at
WaitingEntry = tuple[int, int, int, str, int, int | None, int]
_TICKETS = (1, 2, 3, 4, 5, 6, 8, 10)
_TICKETS_CUM = list(accumulate((15, 50, 10, 15, 3, 4, 2, 1)))
_TYPES = ("waiting", "notified", "converted", "expired", "cancelled")
_PAST_CUM = list(accumulate((25, 0, 25, 30, 20)))  # after the performance nobody waits to hear
_FUTURE_CUM = list(accumulate((62, 12, 10, 6, 10)))


def make_waiting_list(
    rng: random.Random,
    events: list[EventSales],
    customers: Customers,
    count: int,
    now: int,
) -> list[WaitingEntry]:
    """About `count` entries, mostly for the events that sold out, one per customer and event."""
    candidates = [s for s in events if s.event.sale_start_at < now and s.sellable]
    if not candidates or not customers.created_at:
        return []
    # Demand for a waiting list rises steeply as an event fills up.
    cum = list(accumulate((s.sold / s.sellable) ** 6 + 0.002 for s in candidates))
    seen: set[tuple[int, int]] = set()
    entries: list[WaitingEntry] = []
    for _attempt in range(count * 3):
        if len(entries) >= count:
            break
        sales = pick(rng, candidates, cum)
        event = sales.event
        end = min(event.start_at, now)
        first = sales.sold_out_at or max(event.sale_start_at, event.start_at - 30 * DAY)
        created_at = between(rng, min(first, end - MINUTE), end - MINUTE)
        known = bisect_right(customers.created_at, created_at)
        if known == 0:
            continue
        customer = int(rng.random() * known)
        if customer in customers.erased or (customer, event.event_id) in seen:
            continue
        seen.add((customer, event.event_id))
        kind = pick(rng, _TYPES, _PAST_CUM if event.start_at <= now else _FUTURE_CUM)
        notified = kind in ("notified", "converted", "expired") or (
            kind == "cancelled" and rng.random() < 0.4
        )
        notified_at = between(rng, created_at, end) if notified else None
        if kind == "waiting":
            last_changed_at = created_at
        elif kind == "notified" and notified_at is not None:
            last_changed_at = notified_at
        else:
            last_changed_at = between(rng, notified_at or created_at, end)
        tickets = pick(rng, _TICKETS, _TICKETS_CUM)
        entries.append(
            (customer, event.event_id, tickets, kind, created_at, notified_at, last_changed_at)
        )
    return entries
