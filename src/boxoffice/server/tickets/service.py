"""Ticket rules: a secret per ticket, issued with its order; tickets and receipts only when paid."""

import hashlib
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from boxoffice.server.catalog import service as catalog
from boxoffice.server.db.transactions import Tx
from boxoffice.server.errors import Conflict
from boxoffice.server.orders.service import OrderDetail
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.tickets import repository
from boxoffice.server.values.instants import micros_to_instant

# Bytes of randomness in a ticket's secret (32 URL-safe characters): unguessable.
SECRET_BYTES = 24


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_secrets(tx: Tx, *, tenant_id: int, order_seat_ids: Collection[int]) -> None:
    """Give every one of these tickets its own unguessable secret."""
    rows = []
    for seat_id in sorted(order_seat_ids):
        secret = secrets.token_urlsafe(SECRET_BYTES)
        rows.append((seat_id, secret, hash_secret(secret)))
    repository.insert_secrets(tx.conn, tenant_id=tenant_id, secrets=rows, now=tx.now)


class NotPaid(Conflict):
    def __init__(self, what: str) -> None:
        super().__init__(f"The order is not paid; its {what} are available once it is paid.")


@dataclass(frozen=True, slots=True)
class Ticket:
    """One ticket as printed."""

    seat_id: int
    secret: str
    event_name: str
    starts: str
    # The start as an instant (microseconds), for pages that format it per language.
    start_at: int | None
    hall_name: str | None
    section_name: str | None
    row_nr: int | None
    seat_nr: int | None
    rank_name: str | None
    price_name: str
    amount_cents: int

    @property
    def place(self) -> str:
        if self.row_nr is None or self.seat_nr is None:
            rank = f", {self.rank_name}" if self.rank_name else ""
            return f"Unreserved{rank}"
        section = f"{self.section_name}, " if self.section_name else ""
        return f"{section}row {self.row_nr}, seat {self.seat_nr}"


def require_paid(detail: OrderDetail, what: str) -> None:
    row = detail.row
    if row["payment_status"] != "paid" or row["status"] in ("cancel", "trash"):
        raise NotPaid(what)


def list_tickets(conn: Connection, *, tenant: Tenant, detail: OrderDetail) -> list[Ticket]:
    """The order's current seats as tickets, in seat order, each with its secret."""
    seats: Sequence[Any] = [s for s in detail.seats if s["deleted_at"] is None]
    labels = catalog.get_place_labels(
        conn,
        tenant=tenant,
        event_ids={int(s["event_id"]) for s in seats},
        hall_seat_ids={int(s["hall_seat_id"]) for s in seats if s["hall_seat_id"] is not None},
    )
    secrets_by_seat = repository.list_secrets(
        conn, tenant_id=tenant.id, order_seat_ids=[s["id"] for s in seats]
    )
    tickets = []
    for seat in seats:
        secret = secrets_by_seat.get(int(seat["id"]))
        if secret is None:
            # A seat without a secret was not issued as a public ticket (added elsewhere).
            continue
        event = labels.events.get(int(seat["event_id"]))
        starts = (
            ""
            if event is None
            else micros_to_instant(event["start_at"], tenant.timezone).strftime("%Y-%m-%d %H:%M")
        )
        tickets.append(
            Ticket(
                seat_id=int(seat["id"]),
                secret=secret,
                event_name="" if event is None else event["name"],
                starts=starts,
                start_at=None if event is None else int(event["start_at"]),
                hall_name=labels.hall_of(int(seat["event_id"])),
                section_name=labels.section_of(seat["hall_seat_id"]),
                row_nr=seat["row_nr"],
                seat_nr=seat["seat_nr"],
                rank_name=labels.rank_names.get(int(seat["rank_id"])),
                price_name=seat["price_name"],
                amount_cents=int(seat["amount_cents"]),
            )
        )
    return tickets
