"""The sync tests' data: a varied dataset, and a round of changes to it.

Rows are written with the Builder (direct inserts), stamped days in the past and
spread over many instants, so that an incremental sync can tell old from new. Changes are
made the way the API's services make them: in a write transaction, moving
`last_changed_at` forward to the transaction's stamp.
"""

import random
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, insert, select, update

from boxoffice.server.customers.tables import customer_tags, customers
from boxoffice.server.db.changes import advanced
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.orders.tables import order_seats, orders
from boxoffice.server.values.clock import now_micros
from boxoffice.server.waitinglist.tables import waiting_list_entries
from tests.builders.rows import Seat, building

TAGS = ("friend", "donor", "vip", "press", "student", "subscriber")
STATUSES = ("ord", "cancel", "reemit", "reissue", "res", "pros", "trash")
DAY = 86_400_000_000


@dataclass
class Dataset:
    customer_ids: list[int] = field(default_factory=list)
    order_ids: list[int] = field(default_factory=list)
    waiting_ids: list[int] = field(default_factory=list)


def make_dataset(
    engine: Engine,
    tenant_id: int,
    *,
    customers_count: int = 30,
    orders_count: int = 50,
    waiting_count: int = 15,
    seed: int = 7,
) -> Dataset:
    """Customers (some erased, some with odd text), orders with current and deleted seats
    (reserved and unreserved, anonymous ones too), waiting-list entries.

    Stamps start three days ago, a few records sharing each instant (so pages and the
    inclusive boundary meet ties), some 0.5 s apart within one second.
    """
    rng = random.Random(seed)
    data = Dataset()
    start = now_micros() - 3 * DAY
    stamps = iter(start + i * 500_000 + (i % 3) * 7 for i in range(10**6))
    with building(engine, tenant_id) as b:
        b.client_types(*TAGS)
        for i in range(customers_count):
            stamp = next(stamps) if i % 4 else start + (i // 4) * 1_000_000
            fields: dict[str, object] = {}
            if i % 9 == 5:
                fields = {"email": None, "first_name": None, "last_name": None}
            elif i % 7 == 3:
                fields = {
                    "first_name": "Zoë",
                    "last_name": "van 't Hoff — 🎭",
                    "city": "'s-Hertogenbosch",
                }
            tags = rng.sample(TAGS, rng.randint(0, 3)) if i % 9 != 5 else []
            data.customer_ids.append(
                b.customer(
                    changed_at=stamp,
                    tags=tags,
                    credit_cents=rng.choice([0, 5, 1050, 99_999_999]),
                    phone="0201234567" if i % 2 else None,
                    salutation=rng.choice(["M", "F", None]),
                    preposition="van" if i % 5 == 0 else None,
                    **fields,
                )
            )
        for i in range(orders_count):
            stamp = next(stamps) if i % 5 else start + DAY
            seats = []
            for n in range(rng.randint(0, 4)):
                reserved = i % 3 != 0
                seats.append(
                    Seat(
                        amount_cents=rng.choice([2450, 1500, 0, 4999]),
                        event_id=95 if reserved else 96,
                        rank_id=42 if reserved else 43,
                        row_nr=rng.randint(1, 20) if reserved else None,
                        seat_nr=n + 1 if reserved else None,
                        price_id="2ePdA8q3BN" if reserved else "k3Jd9sPq2Z",
                        price_name="Standard" if reserved else "Vrije plaats",
                        deleted_at=stamp if n == 2 else None,
                    )
                )
            data.order_ids.append(
                b.order(
                    changed_at=stamp,
                    seats=seats,
                    customer_id=None if i % 6 == 0 else rng.choice(data.customer_ids),
                    status=STATUSES[i % len(STATUSES)],
                    payment_status=rng.choice(["none", "paid", "partial", "refund"]),
                    channel=rng.choice(["www", "sp"]),
                    fee_cents=rng.choice([0, 250]),
                    donation_cents=rng.choice([0, 500, 1]),
                    discount_name="Vriendenkorting" if i % 8 == 0 else None,
                    time_out_at=stamp + 900_000_000 if i % 7 == 4 else None,
                )
            )
        for i in range(waiting_count):
            stamp = next(stamps)
            data.waiting_ids.append(
                b.waiting(
                    customer_id=data.customer_ids[i % len(data.customer_ids)],
                    changed_at=stamp,
                    event_id=95 + i % 2,
                    number_of_tickets=1 + i % 20,
                    type=["waiting", "notified", "cancelled"][i % 3],
                    notified_at=stamp if i % 3 == 1 else None,
                )
            )
    return data


def change_records(
    engine: Engine, tenant_id: int, data: Dataset, count: int, *, seed: int
) -> set[tuple[str, int]]:
    """Change `count` distinct records now, as the services would; returns (stream, id)."""
    rng = random.Random(seed)
    pool = (
        [("customers", i) for i in data.customer_ids]
        + [("orders", i) for i in data.order_ids]
        + [("waitinglist", i) for i in data.waiting_ids]
    )
    chosen = rng.sample(pool, count)
    with write_transaction(engine) as tx:
        conn, now = tx.conn, tx.now
        for position, (stream, record_id) in enumerate(chosen):
            if stream == "customers":
                values: dict[str, object] = {
                    "city": f"Utrecht {position}",
                    "credit_cents": position,
                }
                if position % 5 == 0:
                    conn.execute(
                        delete(customer_tags).where(customer_tags.c.customer_id == record_id)
                    )
                    conn.execute(
                        insert(customer_tags),
                        [{"tenant_id": tenant_id, "customer_id": record_id, "name": "vip"}],
                    )
                conn.execute(
                    update(customers)
                    .where(customers.c.id == record_id)
                    .values(last_changed_at=advanced(customers.c.last_changed_at, now), **values)
                )
            elif stream == "orders":
                seat = conn.execute(
                    select(order_seats.c.id, order_seats.c.amount_cents)
                    .where(order_seats.c.order_id == record_id, order_seats.c.deleted_at.is_(None))
                    .limit(1)
                ).first()
                values = {"status": STATUSES[position % len(STATUSES)], "payment_status": "paid"}
                if seat is not None and position % 2 == 0:
                    # A removed seat moves to deletedSeats; the amount follows.
                    conn.execute(
                        update(order_seats)
                        .where(order_seats.c.id == seat.id)
                        .values(deleted_at=now)
                    )
                    values["amount_cents"] = orders.c.amount_cents - seat.amount_cents
                conn.execute(
                    update(orders)
                    .where(orders.c.id == record_id)
                    .values(last_changed_at=advanced(orders.c.last_changed_at, now), **values)
                )
            else:
                conn.execute(
                    update(waiting_list_entries)
                    .where(waiting_list_entries.c.id == record_id)
                    .values(
                        last_changed_at=advanced(waiting_list_entries.c.last_changed_at, now),
                        type="expired",
                        number_of_tickets=1 + position % 20,
                    )
                )
    return set(chosen)
