"""Test data by direct insert, with every timestamp under the test's control.

The API's own write paths stamp `last_changed_at` from the clock; export and sync tests
need exact instants (a boundary to the microsecond, thousands of rows sharing one instant),
so these builders write rows straight into the tables. They apply no business rules
beyond keeping an order's `amount` equal to its current seats + donation + fee.

    with building(engine, client.tenant.id) as b:
        b.client_types("friend", "vip")
        alice = b.customer(changed_at=at("2026-04-22T13:08:55+02:00"), tags=["vip"])
        b.order(customer_id=alice, changed_at=..., seats=[Seat(amount_cents=2450)])
"""

import itertools
import secrets
import string
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert

from boxoffice.server.catalog.tables import client_types
from boxoffice.server.customers.tables import customer_tags, customers
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.orders.tables import order_seats, orders
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
        **fields: Any,
    ) -> list[int]:
        """`count` orders with the same seats and stamp, in a few statements.

        With `customer_ids`, the orders take those customers in turn (None: anonymous).
        """
        rows = []
        for i in range(count):
            if customer_ids:
                fields["customer_id"] = customer_ids[i % len(customer_ids)]
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


@contextmanager
def building(engine: Engine, tenant_id: int) -> Iterator[Builder]:
    """A Builder in one write transaction, committed when the block ends."""
    with write_transaction(engine) as tx:
        yield Builder(tx.conn, tenant_id)
