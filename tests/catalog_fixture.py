"""A test catalog written straight into the tables (independent of `boxoffice catalog load`)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from sqlalchemy import Connection, Engine, Table, func, insert, select, update

from boxoffice.server.catalog.tables import (
    client_types,
    event_blocks,
    event_capacities,
    events,
    hall_seats,
    hall_sections,
    halls,
    payment_methods,
    prices,
    productions,
    ranks,
)
from boxoffice.server.customers.tables import customer_tags, customers
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.values.instants import instant_to_micros
from tests.conftest import Client

RESERVED = 200
UNRESERVED = 201
ENDED = 202
OTHER_PRODUCTION_EVENT = 203

# Section 10 "Parket": rows 1-3 of rank 1 (seats 1-10), row 4 of rank 2 (seats 1-10).
# Section 20 "Balkon": row 1 of rank 2 (seats 1-6). Blocked on event 200: Parket 1/1
# (wheel) and Parket 1/10, 2/10 (press).
PARKET, BALKON = 10, 20


def micros(iso: str) -> int:
    return instant_to_micros(datetime.fromisoformat(iso))


@dataclass
class Catalog:
    """Ids of what `build_catalog` made; `seat[(section, row, seat)]` is a hall seat id."""

    tenant_id: int
    seat: dict[tuple[int, int, int], int] = field(default_factory=dict)

    def seat_ids(self, *places: tuple[int, int, int]) -> list[int]:
        return [self.seat[p] for p in places]


def add_hall(
    conn: Connection,
    tenant_id: int,
    hall_id: int,
    layout: dict[tuple[int, str], Sequence[tuple[int, int, int]]],
    catalog: Catalog,
) -> None:
    """A hall; layout {(section id, name): [(row, seats in row, rank), ...]}."""
    conn.execute(
        insert(halls).values(
            tenant_id=tenant_id,
            hall_id=hall_id,
            name=f"Zaal {hall_id}",
            address="Kerkstraat 1",
            zip="1017 GA",
            city="Amsterdam",
            phone="0201234567",
            url="https://example.org",
        )
    )
    for (section_id, name), rows in layout.items():
        conn.execute(
            insert(hall_sections).values(
                tenant_id=tenant_id, hall_id=hall_id, section_id=section_id, name=name
            )
        )
        for row_nr, count, rank_id in rows:
            for seat_nr in range(1, count + 1):
                seat_id = conn.execute(
                    insert(hall_seats)
                    .values(
                        tenant_id=tenant_id,
                        hall_id=hall_id,
                        section_id=section_id,
                        row_nr=row_nr,
                        seat_nr=seat_nr,
                        rank_id=rank_id,
                    )
                    .returning(hall_seats.c.id)
                ).scalar_one()
                catalog.seat[(section_id, row_nr, seat_nr)] = seat_id


def add_event(
    conn: Connection,
    tenant_id: int,
    event_id: int,
    *,
    production_id: int = 100,
    hall_id: int = 1,
    seating: str = "reserved",
    start: str = "2030-04-01T20:30:00+02:00",
    end: str = "2030-04-01T22:30:00+02:00",
    name: str = "Hamlet",
    tags: list[str] | None = None,
    event_prices: Sequence[tuple[str, str, int, int]] = (),
    capacity: dict[int, int] | None = None,
    blocks: Sequence[tuple[str, int | None, int, int]] = (),
) -> None:
    """An event; prices (price id, name, rank, cents); blocks (type, hall seat, rank, places)."""
    conn.execute(
        insert(events).values(
            tenant_id=tenant_id,
            event_id=event_id,
            production_id=production_id,
            name=name,
            event_type="theatre" if tags else None,
            event_tags=None if tags is None else orjson.dumps(tags).decode(),
            start_at=micros(start),
            end_at=micros(end),
            hall_id=hall_id,
            seating=seating,
        )
    )
    for price_id, price_name, rank_id, cents in event_prices:
        conn.execute(
            insert(prices).values(
                tenant_id=tenant_id,
                price_id=price_id,
                event_id=event_id,
                name=price_name,
                rank_id=rank_id,
                amount_cents=cents,
            )
        )
    for rank_id, places in (capacity or {}).items():
        conn.execute(
            insert(event_capacities).values(
                tenant_id=tenant_id, event_id=event_id, rank_id=rank_id, places=places
            )
        )
    for block_type, hall_seat_id, rank_id, places in blocks:
        conn.execute(
            insert(event_blocks).values(
                tenant_id=tenant_id,
                event_id=event_id,
                block_type=block_type,
                hall_seat_id=hall_seat_id,
                rank_id=rank_id,
                places=places,
            )
        )


def build_catalog(engine: Engine, client: Client) -> Catalog:
    """The standard test catalog of a client:

    * ranks 1 "Rang 1", 2 "Rang 2"; payment methods 1 iDEAL (0.00), 2 Invoice (2.50);
    * hall 1 (layout above), hall 2 "Kleine Zaal" (one section, row 1 of 8 seats, rank 1);
    * production 100 "Hamlet": event 200 reserved (prices STD 24.50 and RED 19.00 of rank 1,
      R2 15.00 of rank 2; three blocked seats), event 201 unreserved (rank 2, 50 places,
      5 blocked as "group"; price FREE 15.00), event 202 reserved and already over;
    * production 101 "Lear": event 203 reserved in hall 2 (price LEAR 30.00, rank 1).
    """
    tenant_id = client.tenant.id
    catalog = Catalog(tenant_id=tenant_id)
    with write_transaction(engine) as tx:
        conn = tx.conn
        conn.execute(
            insert(client_types), [{"tenant_id": tenant_id, "name": n} for n in ("friend", "vip")]
        )
        conn.execute(
            insert(ranks),
            [
                {"tenant_id": tenant_id, "rank_id": 1, "name": "Rang 1"},
                {"tenant_id": tenant_id, "rank_id": 2, "name": "Rang 2"},
            ],
        )
        conn.execute(
            insert(payment_methods),
            [
                {"tenant_id": tenant_id, "payment_method_id": 1, "name": "iDEAL", "fee_cents": 0},
                {
                    "tenant_id": tenant_id,
                    "payment_method_id": 2,
                    "name": "Invoice",
                    "fee_cents": 250,
                },
            ],
        )
        add_hall(
            conn,
            tenant_id,
            1,
            {
                (PARKET, "Parket"): [(1, 10, 1), (2, 10, 1), (3, 10, 1), (4, 10, 2)],
                (BALKON, "Balkon"): [(1, 6, 2)],
            },
            catalog,
        )
        add_hall(conn, tenant_id, 2, {(1, "Zaal"): [(1, 8, 1)]}, catalog)
        conn.execute(
            insert(productions),
            [
                {"tenant_id": tenant_id, "production_id": 100, "name": "Hamlet"},
                {"tenant_id": tenant_id, "production_id": 101, "name": "Lear"},
            ],
        )
        add_event(
            conn,
            tenant_id,
            RESERVED,
            tags=["drama", "english"],
            event_prices=[
                ("STD", "Standard", 1, 2450),
                ("RED", "Reduced", 1, 1900),
                ("R2", "Rang 2", 2, 1500),
            ],
            blocks=[
                ("wheel", catalog.seat[(PARKET, 1, 1)], 1, 1),
                ("press", catalog.seat[(PARKET, 1, 10)], 1, 1),
                ("press", catalog.seat[(PARKET, 2, 10)], 1, 1),
            ],
        )
        add_event(
            conn,
            tenant_id,
            UNRESERVED,
            name="Hamlet (foyer)",
            seating="unreserved",
            start="2030-04-02T20:30:00+02:00",
            end="2030-04-02T22:30:00+02:00",
            event_prices=[("FREE", "Vrije plaats", 2, 1500)],
            capacity={2: 50},
            blocks=[("group", None, 2, 5)],
        )
        add_event(
            conn,
            tenant_id,
            ENDED,
            start="2020-01-10T20:00:00+01:00",
            end="2020-01-10T22:00:00+01:00",
            event_prices=[("OLD", "Standard", 1, 2000)],
        )
        add_event(
            conn,
            tenant_id,
            OTHER_PRODUCTION_EVENT,
            production_id=101,
            hall_id=2,
            name="Lear",
            start="2030-05-01T20:00:00+02:00",
            end="2030-05-01T23:00:00+02:00",
            event_prices=[("LEAR", "Standard", 1, 3000)],
        )
    return catalog


def add_customer(
    engine: Engine, client: Client, email: str = "ada@example.org", tags: Sequence[str] = ()
) -> int:
    with write_transaction(engine) as tx:
        customer_id = tx.conn.execute(
            insert(customers)
            .values(
                tenant_id=client.tenant.id,
                email=email,
                email_key=email.lower(),
                first_name="Ada",
                last_name="Lovelace",
                credit_cents=0,
                created_at=tx.now,
                last_changed_at=tx.now,
            )
            .returning(customers.c.id)
        ).scalar_one()
        for name in tags:
            tx.conn.execute(
                insert(customer_tags).values(
                    tenant_id=client.tenant.id, customer_id=customer_id, name=name
                )
            )
    return int(customer_id)


def erase_customer(engine: Engine, client: Client, customer_id: int) -> None:
    with write_transaction(engine) as tx:
        tx.conn.execute(
            update(customers)
            .where(customers.c.id == customer_id, customers.c.tenant_id == client.tenant.id)
            .values(email=None, email_key=None, first_name=None, last_name=None, erased_at=tx.now)
        )


def count_rows(engine: Engine, table: Table, tenant_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
            ).scalar_one()
        )
