"""The waiting list: joining it, reading it, and moving an entry through its states."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping

from boxoffice.server.catalog import service as catalog
from boxoffice.server.customers import service as customers
from boxoffice.server.db.transactions import Tx
from boxoffice.server.errors import Conflict, InvalidInput, NotFound
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.waitinglist import repository
from boxoffice.server.waitinglist.schemas import WaitingCreate, WaitingUpdate

# The allowed moves; everything else (including staying put) is a 422.
TRANSITIONS: dict[str, frozenset[str]] = {
    "waiting": frozenset({"notified", "cancelled"}),
    "notified": frozenset({"converted", "expired", "cancelled"}),
}


@dataclass(frozen=True, slots=True)
class WaitingView:
    entry: RowMapping
    customer: Mapping[str, Any] | None
    tags: Sequence[str]


def _views(conn: Connection, tenant: Tenant, rows: Sequence[RowMapping]) -> list[WaitingView]:
    ids = {int(r["customer_id"]) for r in rows}
    records = customers.list_customers_by_ids(conn, tenant_id=tenant.id, customer_ids=ids)
    views: list[WaitingView] = []
    for r in rows:
        record = records.get(r["customer_id"])
        views.append(
            WaitingView(
                entry=r,
                customer=None if record is None else record.row,
                tags=[] if record is None else record.tags,
            )
        )
    return views


def _view(conn: Connection, tenant: Tenant, waiting_id: int) -> WaitingView:
    entry = repository.get_entry(conn, tenant_id=tenant.id, waiting_id=waiting_id)
    assert entry is not None
    return _views(conn, tenant, [entry])[0]


def join_waiting_list(tx: Tx, *, tenant: Tenant, request: WaitingCreate) -> WaitingView:
    """Add an entry of type `waiting`; one active entry per customer and event."""
    # The customer's row lock serialises two concurrent joins of the same customer.
    customer = customers.lock_customer(
        tx.conn, tenant_id=tenant.id, customer_id=request.customer_id
    )
    if customer is None:
        raise InvalidInput.field("customerId", f"Customer {request.customer_id} does not exist.")
    if customer["erased_at"] is not None:
        raise InvalidInput.field("customerId", f"Customer {request.customer_id} has been erased.")
    event = catalog.find_event(tx.conn, tenant_id=tenant.id, event_id=request.event_id)
    if event is None:
        raise InvalidInput.field("eventId", f"Event {request.event_id} does not exist.")
    if event["end_at"] <= tx.now:
        raise Conflict(f"Event {request.event_id} has ended.")
    active = repository.get_active_entry(
        tx.conn, tenant_id=tenant.id, customer_id=request.customer_id, event_id=request.event_id
    )
    if active is not None:
        raise Conflict(
            f"Customer {request.customer_id} is on the waiting list for event "
            f"{request.event_id} already (waitingId {active['id']})."
        )
    waiting_id = repository.insert_entry(
        tx.conn,
        tenant_id=tenant.id,
        customer_id=request.customer_id,
        event_id=request.event_id,
        number_of_tickets=request.number_of_tickets,
        now=tx.now,
    )
    return _view(tx.conn, tenant, waiting_id)


def list_entries(conn: Connection, *, tenant: Tenant, event_id: int | None) -> list[WaitingView]:
    """The entries of one event (404 for an event of no such id), or of all events."""
    if event_id is not None:
        catalog.get_event(conn, tenant=tenant, event_id=event_id)
    return _views(
        conn, tenant, repository.list_entries(conn, tenant_id=tenant.id, event_id=event_id)
    )


def change_entry(tx: Tx, *, tenant: Tenant, waiting_id: int, request: WaitingUpdate) -> WaitingView:
    if request.type is None and request.number_of_tickets is None:
        raise InvalidInput.field("type", "Give a new type (or numberOfTickets).")
    entry = repository.get_entry(tx.conn, tenant_id=tenant.id, waiting_id=waiting_id, lock=True)
    if entry is None:
        raise NotFound("Waiting list entry")
    current = str(entry["type"])
    values: dict[str, Any] = {}
    if request.type is not None:
        if request.type not in TRANSITIONS.get(current, frozenset()):
            raise InvalidInput.field(
                "type", f"A waiting-list entry cannot move from {current} to {request.type}."
            )
        values["type"] = request.type
        if request.type == "notified":
            values["notified_at"] = tx.now
    if (
        request.number_of_tickets is not None
        and request.number_of_tickets != entry["number_of_tickets"]
    ):
        if current not in TRANSITIONS:
            raise InvalidInput.field(
                "numberOfTickets", f"The number of tickets of a {current} entry cannot change."
            )
        values["number_of_tickets"] = request.number_of_tickets
    if values:
        repository.update_entry(
            tx.conn, tenant_id=tenant.id, waiting_id=waiting_id, values=values, now=tx.now
        )
    return _view(tx.conn, tenant, waiting_id)
