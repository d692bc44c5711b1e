"""`boxoffice demo`: a client with a realistic catalog, customers, orders and a waiting list.

Everything happens in one write transaction, so an interrupted run leaves nothing behind and
the next run starts afresh. The catalog goes through the real catalog loader; customers,
orders, seats, place claims and waiting-list entries are written in bulk (see docs/catalog.md
for what a demo holds and how long it takes).
"""

import os
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy import Engine

from boxoffice.demo.catalog import SCALES, TIMEZONE, TZ, Scale, build_catalog
from boxoffice.demo.people import Customers, make_customers
from boxoffice.demo.sales import ORDER_COLUMNS, SEAT_COLUMNS, Sale, Simulation, event_sales
from boxoffice.demo.storage import BulkWriter, list_hall_seats
from boxoffice.demo.waiting import WAITING_COLUMNS, make_waiting_list
from boxoffice.server.catalog.loading import load_catalog
from boxoffice.server.customers.tables import customer_tags, customers
from boxoffice.server.db.transactions import Tx, write_transaction
from boxoffice.server.errors import InvalidInput, NotFound
from boxoffice.server.orders.tables import order_seats, orders
from boxoffice.server.places import service as places
from boxoffice.server.places.tables import place_claims, place_counts
from boxoffice.server.tenancy.service import (
    Tenant,
    create_key,
    create_tenant,
    get_tenant,
    is_active_key,
)
from boxoffice.server.values.instants import instant_to_micros
from boxoffice.server.waitinglist.tables import waiting_list_entries

# The demo's "today": its data ends here, whenever it is generated, so that one seed always
# gives the same data (unless the clock is earlier, see `_demo_now`).
DEMO_TODAY = datetime(2026, 11, 28, tzinfo=TZ)
_FIRST_CUSTOMER = datetime(2019, 1, 7, tzinfo=TZ)
_SEASON_OPENS = datetime(2025, 6, 2, tzinfo=TZ)
_ROWS_PER_BATCH = 5_000
_ORDERS_PER_BATCH = 2_000

T = TypeVar("T")


@dataclass(slots=True)
class DemoCounts:
    customers: int = 0
    tags: int = 0
    orders: int = 0
    seats: int = 0
    removed_seats: int = 0
    claims: int = 0
    waiting: int = 0


def create_demo(
    engine: Engine,
    *,
    client: str,
    scale: str | Scale,
    seed: int,
    console: Console | None = None,
    key_file: Path | None = None,
) -> str:
    """Create the demo client and its data; returns an API key of the client.

    `scale` is a name of SCALES or a Scale of its own (tests use small custom ones). If the
    client exists already, its data is left alone, so that `make run` can call this on
    every start. Its key is then the one in `key_file` while that is still a live key of the
    client, else a new one; either way `key_file` holds the returned key afterwards (mode
    0600), so that repeated runs do not pile up live keys.
    """
    profile = SCALES.get(scale) if isinstance(scale, str) else scale
    if profile is None:
        raise InvalidInput.field("scale", f"Unknown scale {scale!r}; one of: {', '.join(SCALES)}.")
    console = console or Console(stderr=True)
    kept = _read_key(key_file)
    key = _generate(engine, client=client, scale=profile, seed=seed, console=console, kept=kept)
    if key_file is not None and key != kept:
        _write_key(key_file, key)
    return key


def _read_key(key_file: Path | None) -> str | None:
    if key_file is None:
        return None
    try:
        lines = key_file.read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError):
        return None
    return lines[-1] if lines else None


def _write_key(key_file: Path, key: str) -> None:
    """Replace the file atomically, readable by its owner only."""
    tmp = key_file.with_name(f".{key_file.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(key + "\n")
    os.replace(tmp, key_file)


def _generate(
    engine: Engine, *, client: str, scale: Scale, seed: int, console: Console, kept: str | None
) -> str:
    started = time.monotonic()
    with write_transaction(engine) as tx:
        try:
            existing = get_tenant(tx.conn, client)
        except NotFound:
            existing = None
        if existing is not None:
            if kept is not None and is_active_key(tx.conn, client_name=client, key=kept):
                console.print(f"client {client} exists already: data kept, its key kept")
                return kept
            console.print(f"client {client} exists already: data kept, new API key created")
            return create_key(tx.conn, tenant_id=existing.id, now=tx.now)
        tenant, key = create_tenant(tx.conn, name=client, timezone=TIMEZONE, now=tx.now)
        columns = (
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            counts = _fill(tx, tenant, scale, seed, progress)
    console.print(
        f"demo client {client} ({scale.name}, seed {seed}): {counts.customers:,} customers, "
        f"{counts.orders:,} orders with {counts.seats:,} seats ({counts.removed_seats:,} "
        f"removed), {counts.claims:,} places sold, {counts.waiting:,} waiting-list entries "
        f"in {time.monotonic() - started:.0f} s"
    )
    return key


def _demo_now(clock: int) -> int:
    """Where the demo's timeline ends: DEMO_TODAY, or the start of today if that is earlier."""
    today = instant_to_micros(DEMO_TODAY)
    if clock >= today:
        return today
    local = datetime.fromtimestamp(clock / 1_000_000, TZ)
    return instant_to_micros(local.replace(hour=0, minute=0, second=0, microsecond=0))


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _fill(tx: Tx, tenant: Tenant, scale: Scale, seed: int, progress: Progress) -> DemoCounts:
    rng = random.Random(seed)
    # Order keys get their own stream, tied to the client name, because they are unique
    # across all clients; everything else depends on the seed alone.
    key_rng = random.Random(f"{seed}:{tenant.name}")
    now = _demo_now(tx.now)
    writer = BulkWriter(tx.conn)
    counts = DemoCounts()

    task = progress.add_task("catalog", total=1)
    catalog, events = build_catalog(rng, scale)
    load_catalog(tx, tenant=tenant, data=catalog)
    progress.advance(task)

    task = progress.add_task("customers", total=scale.customers)
    people = make_customers(
        rng,
        scale,
        first_at=instant_to_micros(_FIRST_CUSTOMER),
        season_at=instant_to_micros(_SEASON_OPENS),
        now=now,
    )
    customer_ids = _write_customers(writer, tenant.id, people, progress, task)
    counts.customers, counts.tags = len(customer_ids), len(people.tags)

    sales = event_sales(events, list_hall_seats(tx.conn, tenant_id=tenant.id))
    simulation = Simulation(rng, key_rng, sales, people, now)
    planned = simulation.plan(scale.orders)
    task = progress.add_task("orders", total=len(planned))
    for plan_batch in _batches(planned, _ORDERS_PER_BATCH):
        made = [sale for sale in (simulation.sell(*p) for p in plan_batch) if sale is not None]
        _write_sales(writer, tenant.id, made, customer_ids, counts)
        progress.advance(task, len(plan_batch))
    # The claims went in in bulk: their counts are set from them, in the same transaction.
    places.recount(tx.conn, tenant_id=tenant.id, event_ids=[e.event_id for e in events])

    task = progress.add_task("waiting list", total=scale.waiting)
    entries = make_waiting_list(rng, sales, people, scale.waiting, now)
    entry_rows = [(tenant.id, customer_ids[entry[0]], *entry[1:]) for entry in entries]
    for batch in _batches(entry_rows, _ROWS_PER_BATCH):
        writer.insert(waiting_list_entries, ("tenant_id", *WAITING_COLUMNS), batch)
        progress.advance(task, len(batch))
    progress.update(task, completed=scale.waiting)
    counts.waiting = len(entry_rows)
    writer.analyze(
        (
            customers,
            customer_tags,
            orders,
            order_seats,
            place_claims,
            place_counts,
            waiting_list_entries,
        )
    )
    return counts


def _write_customers(
    writer: BulkWriter, tenant_id: int, people: Customers, progress: Progress, task: TaskID
) -> list[int]:
    ids = writer.reserve_ids(customers, len(people.rows))
    columns = tuple(people.rows[0]) if people.rows else ()
    rows = [
        (i, tenant_id, *(row[column] for column in columns))
        for i, row in zip(ids, people.rows, strict=True)
    ]
    for batch in _batches(rows, _ROWS_PER_BATCH):
        writer.insert(customers, ("id", "tenant_id", *columns), batch)
        progress.advance(task, len(batch))
    tags = [(tenant_id, ids[index], name) for index, name in people.tags]
    for batch in _batches(tags, _ROWS_PER_BATCH):
        writer.insert(customer_tags, ("tenant_id", "customer_id", "name"), batch)
    return ids


def _write_sales(
    writer: BulkWriter,
    tenant_id: int,
    made: list[Sale],
    customer_ids: list[int],
    counts: DemoCounts,
) -> None:
    order_ids = writer.reserve_ids(orders, len(made))
    seat_ids = writer.reserve_ids(order_seats, sum(len(sale.seats) for sale in made))
    order_rows: list[tuple[object, ...]] = []
    seat_rows: list[tuple[object, ...]] = []
    claim_rows: list[tuple[object, ...]] = []
    next_seat = 0
    for order_id, sale in zip(order_ids, made, strict=True):
        customer_id = None if sale.customer is None else customer_ids[sale.customer]
        order_rows.append((order_id, tenant_id, customer_id, *sale.order))
        first_seat = next_seat
        for seat in sale.seats:
            seat_rows.append((seat_ids[next_seat], tenant_id, order_id, *seat))
            next_seat += 1
        for position, key, rank_id in sale.claims:
            seat_id = seat_ids[first_seat + position]
            claim_rows.append((tenant_id, sale.seats[position][0], key, rank_id, seat_id))
    counts.removed_seats += sum(row[-1] is not None for row in seat_rows)
    writer.insert(orders, ("id", "tenant_id", "customer_id", *ORDER_COLUMNS), order_rows)
    writer.insert(order_seats, ("id", "tenant_id", "order_id", *SEAT_COLUMNS), seat_rows)
    writer.insert(
        place_claims,
        ("tenant_id", "event_id", "place_key", "rank_id", "order_seat_id"),
        claim_rows,
    )
    counts.orders += len(order_rows)
    counts.seats += len(seat_rows)
    counts.claims += len(claim_rows)
