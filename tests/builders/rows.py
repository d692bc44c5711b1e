"""The Builder: test rows by direct insert, with every id and timestamp under the test's control.

The API's own write paths stamp `last_changed_at` from the clock; export and sync tests
need exact instants (a boundary to the microsecond, thousands of rows sharing one instant),
and the order and cart tests need a catalog and orders that do not depend on the catalog
loader or the checkout, so these builders write rows straight into the tables. They apply
no business rules beyond keeping an order's `amount` equal to its current seats + donation
+ fee, and claiming the places of a live order's seats when asked to (as checkout would).
"""

import itertools
import secrets
import string
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, insert, select, update

from boxoffice.server.catalog.service import catalog_changed
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
from boxoffice.server.orders.tables import order_seats, orders
from boxoffice.server.places.repository import count_sales
from boxoffice.server.places.tables import place_claims
from boxoffice.server.values.instants import instant_to_micros
from boxoffice.server.waitinglist.tables import waiting_list_entries

_serial = itertools.count(1)
_KEY_ALPHABET = string.ascii_letters + string.digits


def at(iso: str) -> int:
    """An ISO 8601 date-time with offset as stored: UTC microseconds."""
    parsed = datetime.fromisoformat(iso)
    if parsed.tzinfo is None:
        raise ValueError(f"{iso!r} needs an offset")
    return instant_to_micros(parsed)


def order_key() -> str:
    """A fresh key in the contract's form XgFca-QmBxG-9WhAj-Osszb."""
    return "-".join("".join(secrets.choice(_KEY_ALPHABET) for _ in range(5)) for _ in range(4))


@dataclass(frozen=True)
class Seat:
    """One ticket line of an order; `deleted_at` set means it shows under deletedSeats."""

    amount_cents: int = 2450
    event_id: int = 95
    rank_id: int = 42
    row_nr: int | None = None
    seat_nr: int | None = None
    price_id: str = "2ePdA8q3BN"
    price_name: str = "Standard"
    hall_seat_id: int | None = None
    deleted_at: int | None = None


class Builder:
    """Inserts one client's rows on an open connection; every method returns the new id."""

    def __init__(self, conn: Connection, tenant_id: int) -> None:
        self.conn = conn
        self.tenant_id = tenant_id
        # The ids of the seats `order` inserted, per order id, in the order given.
        self.seat_ids: dict[int, list[int]] = {}

    # The catalog. Ids are the caller's (the catalog's ids are the client's own).

    def ranks(self, *ranks_: tuple[int, str]) -> None:
        """Ranks, as (rank id, name)."""
        rows = [{"tenant_id": self.tenant_id, "rank_id": r, "name": name} for r, name in ranks_]
        self.conn.execute(insert(ranks), rows)

    def payment_method(
        self, payment_method_id: int, name: str, fee_cents: int = 0, **fields: Any
    ) -> None:
        """A payment method; `fields` may set its `provider` and `online`."""
        self.conn.execute(
            insert(payment_methods).values(
                tenant_id=self.tenant_id,
                payment_method_id=payment_method_id,
                name=name,
                fee_cents=fee_cents,
                **fields,
            )
        )

    def hall(
        self,
        hall_id: int,
        layout: dict[tuple[int, str], Sequence[tuple[int, int, int]]],
        **fields: Any,
    ) -> dict[tuple[int, int, int], int]:
        """A hall; layout {(section id, name): [(row, seats in row, rank), ...]}. Returns
        the hall seat id of each (section, row, seat)."""
        values = {"name": f"Zaal {hall_id}", **fields}
        self.conn.execute(insert(halls).values(tenant_id=self.tenant_id, hall_id=hall_id, **values))
        seat_ids: dict[tuple[int, int, int], int] = {}
        for (section_id, name), rows in layout.items():
            self.conn.execute(
                insert(hall_sections).values(
                    tenant_id=self.tenant_id, hall_id=hall_id, section_id=section_id, name=name
                )
            )
            for row_nr, count, rank_id in rows:
                for seat_nr in range(1, count + 1):
                    seat_ids[section_id, row_nr, seat_nr] = int(
                        self.conn.execute(
                            insert(hall_seats)
                            .values(
                                tenant_id=self.tenant_id,
                                hall_id=hall_id,
                                section_id=section_id,
                                row_nr=row_nr,
                                seat_nr=seat_nr,
                                rank_id=rank_id,
                            )
                            .returning(hall_seats.c.id)
                        ).scalar_one()
                    )
        return seat_ids

    def productions(self, *productions_: tuple[int, str]) -> None:
        """Productions, as (production id, name)."""
        rows = [
            {"tenant_id": self.tenant_id, "production_id": p, "name": name}
            for p, name in productions_
        ]
        self.conn.execute(insert(productions), rows)

    def production(
        self,
        production_id: int,
        name: str,
        *,
        event_types: Sequence[str] | None = None,
        **fields: Any,
    ) -> None:
        """A production with what the public API shows of it: `fields` may set its `text`,
        `short_text` and `image`; `event_types` are its event-type names."""
        self.conn.execute(
            insert(productions).values(
                tenant_id=self.tenant_id,
                production_id=production_id,
                name=name,
                event_types=_names_json(event_types),
                **fields,
            )
        )

    def event(
        self,
        event_id: int,
        *,
        start_at: int | None = None,
        end_at: int | None = None,
        production_id: int = 100,
        hall_id: int = 1,
        seating: str = "reserved",
        name: str = "Hamlet",
        event_type: str | None = None,
        tags: list[str] | None = None,
        prices_: Sequence[tuple[str, str, int, int]] = (),
        capacity: dict[int, int] | None = None,
        blocks: Sequence[tuple[str, int | None, int | None, int]] = (),
        event_types: Sequence[str] | None = None,
        **fields: Any,
    ) -> None:
        """An event; prices (price id, name, rank, cents); capacity {rank: places} of an
        unreserved event; blocks (type, hall seat, rank, places). The public API's fields:
        `event_types` (names), and in `fields` its `text`, `short_text`, `image`, `url`,
        `status`, `view_end_at` and `max_tickets_per_order` (the production's texts show
        where an event sets none)."""
        self.conn.execute(
            insert(events).values(
                tenant_id=self.tenant_id,
                event_id=event_id,
                production_id=production_id,
                name=name,
                event_type="theatre" if event_type is None and tags else event_type,
                event_tags=None if tags is None else orjson.dumps(tags).decode(),
                start_at=at("2030-04-01T20:30:00+02:00") if start_at is None else start_at,
                end_at=at("2030-04-01T22:30:00+02:00") if end_at is None else end_at,
                hall_id=hall_id,
                seating=seating,
                event_types=_names_json(event_types),
                **fields,
            )
        )
        for price_id, price_name, rank_id, cents in prices_:
            self.conn.execute(
                insert(prices).values(
                    tenant_id=self.tenant_id,
                    price_id=price_id,
                    event_id=event_id,
                    name=price_name,
                    rank_id=rank_id,
                    amount_cents=cents,
                )
            )
        for rank_id, places in (capacity or {}).items():
            self.conn.execute(
                insert(event_capacities).values(
                    tenant_id=self.tenant_id, event_id=event_id, rank_id=rank_id, places=places
                )
            )
        for block_type, hall_seat_id, block_rank, block_places in blocks:
            self.block(
                event_id,
                block_type,
                hall_seat_id=hall_seat_id,
                rank_id=block_rank,
                places=block_places,
            )

    def change_capacity(self, event_id: int, rank_id: int, places: int) -> None:
        """A catalog reload's change of an unreserved event's capacity of a rank."""
        self.conn.execute(
            update(event_capacities)
            .where(
                event_capacities.c.tenant_id == self.tenant_id,
                event_capacities.c.event_id == event_id,
                event_capacities.c.rank_id == rank_id,
            )
            .values(places=places)
        )

    def unblock(self, event_id: int) -> None:
        """A catalog reload that lifts every block of an event."""
        self.conn.execute(
            delete(event_blocks).where(
                event_blocks.c.tenant_id == self.tenant_id, event_blocks.c.event_id == event_id
            )
        )

    def block(
        self,
        event_id: int,
        block_type: str,
        *,
        hall_seat_id: int | None = None,
        rank_id: int | None = None,
        places: int = 1,
    ) -> None:
        """A blocked hall seat, or `places` units of a rank of an unreserved event."""
        values: dict[str, Any] = {
            "tenant_id": self.tenant_id,
            "event_id": event_id,
            "block_type": block_type,
            "hall_seat_id": hall_seat_id,
        }
        if rank_id is not None:
            values.update(rank_id=rank_id, places=places)
        self.conn.execute(insert(event_blocks).values(**values))

    def hold(
        self,
        *,
        event_id: int,
        place_key: str,
        rank_id: int,
        expires_at: int,
        cart_item_id: int = 999_999,
    ) -> None:
        """A cart's hold on a place (the cart itself is not made)."""
        self.conn.execute(
            insert(place_claims).values(
                tenant_id=self.tenant_id,
                event_id=event_id,
                place_key=place_key,
                rank_id=rank_id,
                cart_item_id=cart_item_id,
                expires_at=expires_at,
            )
        )

    def claim_places(self, order_id: int, seats: Sequence[Seat], *, units: int) -> None:
        """The place claims of a live order's current seats, as checkout makes them: a
        reserved seat claims its hall seat, an unreserved one the first free unit of its
        rank (of `units`)."""
        for seat_id, seat in zip(self.seat_ids[order_id], seats, strict=True):
            if seat.deleted_at is not None:
                continue
            if seat.hall_seat_id is not None:
                key = f"s{seat.hall_seat_id}"
            else:
                taken = set(
                    self.conn.execute(
                        select(place_claims.c.place_key).where(
                            place_claims.c.tenant_id == self.tenant_id,
                            place_claims.c.event_id == seat.event_id,
                        )
                    ).scalars()
                )
                key = next(
                    f"u{seat.rank_id}:{n}"
                    for n in range(1, units + 1)
                    if f"u{seat.rank_id}:{n}" not in taken
                )
            self.conn.execute(
                insert(place_claims).values(
                    tenant_id=self.tenant_id,
                    event_id=seat.event_id,
                    place_key=key,
                    rank_id=seat.rank_id,
                    order_seat_id=seat_id,
                )
            )
            # A sale is kept (counted, and a seat marked sold), as places/ keeps it (a hold,
            # which expires, is not).
            count_sales(
                self.conn,
                tenant_id=self.tenant_id,
                sales=[(seat.event_id, seat.rank_id, key)],
                sign=1,
            )

    # Customers, orders, waiting lists.

    def client_types(self, *names: str) -> None:
        if names:
            rows = [{"tenant_id": self.tenant_id, "name": name} for name in names]
            self.conn.execute(insert(client_types), rows)

    def customer_values(self, *, changed_at: int, **fields: Any) -> dict[str, Any]:
        """The column values of a customer (unique email), without inserting it."""
        n = next(_serial)
        values: dict[str, Any] = {
            "tenant_id": self.tenant_id,
            "email": f"customer{n}@example.org",
            "first_name": "Anna",
            "last_name": f"Jansen {n}",
            "credit_cents": 0,
            "created_at": changed_at,
            "last_changed_at": changed_at,
        }
        values.update(fields)
        if "email_key" not in fields:
            values["email_key"] = None if values["email"] is None else values["email"].lower()
        return values

    def customer(self, *, changed_at: int, tags: Sequence[str] = (), **fields: Any) -> int:
        """A customer; `tags` must be in the client's vocabulary (see client_types)."""
        values = self.customer_values(changed_at=changed_at, **fields)
        customer_id = int(
            self.conn.execute(insert(customers).returning(customers.c.id), values).scalar_one()
        )
        if tags:
            self.conn.execute(
                insert(customer_tags),
                [
                    {"tenant_id": self.tenant_id, "customer_id": customer_id, "name": name}
                    for name in tags
                ],
            )
        return customer_id

    def many_customers(self, count: int, *, changed_at: int, **fields: Any) -> list[int]:
        """`count` customers in one statement, all with the same fields and stamp."""
        rows = [self.customer_values(changed_at=changed_at, **fields) for _ in range(count)]
        stmt = insert(customers).returning(customers.c.id, sort_by_parameter_order=True)
        return [int(i) for i in self.conn.execute(stmt, rows).scalars()]

    def order_values(
        self, *, changed_at: int, seats: Sequence[Seat] = (), **fields: Any
    ) -> dict[str, Any]:
        """The column values of an order; `amount_cents` follows from seats, fee, donation."""
        values: dict[str, Any] = {
            "tenant_id": self.tenant_id,
            "order_key": order_key(),
            "customer_id": None,
            "status": "ord",
            "payment_status": "paid",
            "channel": "www",
            "order_date_at": changed_at,
            "time_out_at": None,
            "payment_method_id": 1,
            "handling_text": "iDEAL",
            "discount_name": None,
            "fee_cents": 0,
            "donation_cents": 0,
            "created_at": changed_at,
            "last_changed_at": changed_at,
        }
        values.update(fields)
        if "amount_cents" not in fields:
            current = sum(s.amount_cents for s in seats if s.deleted_at is None)
            values["amount_cents"] = current + values["fee_cents"] + values["donation_cents"]
        return values

    def order(self, *, changed_at: int, seats: Sequence[Seat] = (), **fields: Any) -> int:
        values = self.order_values(changed_at=changed_at, seats=seats, **fields)
        order_id = int(
            self.conn.execute(insert(orders).returning(orders.c.id), values).scalar_one()
        )
        self.seat_ids[order_id] = self.seats(order_id, seats)
        return order_id

    def seats(self, order_id: int, seats: Sequence[Seat]) -> list[int]:
        if not seats:
            return []
        rows = [
            {"tenant_id": self.tenant_id, "order_id": order_id, **asdict(seat)} for seat in seats
        ]
        stmt = insert(order_seats).returning(order_seats.c.id, sort_by_parameter_order=True)
        return [int(i) for i in self.conn.execute(stmt, rows).scalars()]

    def many_orders(
        self,
        count: int,
        *,
        changed_at: int,
        seats: Sequence[Seat] = (),
        customer_ids: Sequence[int | None] = (),
        last_changed: Sequence[int] = (),
        **fields: Any,
    ) -> list[int]:
        """`count` orders with the same seats and stamp, in a few statements.

        With `customer_ids`, the orders take those customers in turn (None: anonymous); with
        `last_changed`, those `last_changed_at` stamps in turn.
        """
        rows = []
        for i in range(count):
            if customer_ids:
                fields["customer_id"] = customer_ids[i % len(customer_ids)]
            if last_changed:
                fields["last_changed_at"] = last_changed[i % len(last_changed)]
            rows.append(self.order_values(changed_at=changed_at, seats=seats, **fields))
        stmt = insert(orders).returning(orders.c.id, sort_by_parameter_order=True)
        order_ids = [int(i) for i in self.conn.execute(stmt, rows).scalars()]
        if seats:
            seat_rows = [
                {"tenant_id": self.tenant_id, "order_id": order_id, **asdict(seat)}
                for order_id in order_ids
                for seat in seats
            ]
            self.conn.execute(insert(order_seats), seat_rows)
        return order_ids

    def waiting(self, *, customer_id: int, changed_at: int, **fields: Any) -> int:
        values: dict[str, Any] = {
            "tenant_id": self.tenant_id,
            "customer_id": customer_id,
            "event_id": 95,
            "number_of_tickets": 2,
            "type": "waiting",
            "created_at": changed_at,
            "notified_at": None,
            "last_changed_at": changed_at,
        }
        values.update(fields)
        stmt = insert(waiting_list_entries).returning(waiting_list_entries.c.id)
        return int(self.conn.execute(stmt, values).scalar_one())


def _names_json(names: Sequence[str] | None) -> str | None:
    """A list of names as the catalog stores it: compact JSON text, or NULL."""
    return None if names is None else orjson.dumps(list(names)).decode()


@contextmanager
def building(engine: Engine, tenant_id: int) -> Iterator[Builder]:
    """A Builder in one write transaction, committed when the block ends. It may have
    changed the catalog, as a catalog load does: so it moves the client's catalog version
    as a load does (the servers' cached layouts give way)."""
    with write_transaction(engine) as tx:
        yield Builder(tx.conn, tenant_id)
        catalog_changed(tx.conn, tenant_id=tenant_id)
