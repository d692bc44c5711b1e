"""The public view of orders: placing one from a cart, reading it, its tickets and receipt.

Every read answers only to the order key (found by its hash, see payments/), and the
tickets and the receipt only once the order is paid.
"""

from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping

from boxoffice.server.catalog import service as catalog
from boxoffice.server.catalog.service import PlaceLabels
from boxoffice.server.payments import service as payments
from boxoffice.server.payments.service import PublicOrder
from boxoffice.server.public.service import sub_event_types
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.tickets import service as tickets
from boxoffice.server.tickets.service import Ticket


@dataclass(frozen=True, slots=True)
class OrderView:
    found: PublicOrder
    labels: PlaceLabels
    productions: dict[int, RowMapping]

    def event_types(self, event_id: int) -> list[str]:
        event = self.labels.events.get(event_id)
        if event is None:
            return []
        production = self.productions.get(int(event["production_id"]))
        if production is None:
            return [event["event_type"]] if event["event_type"] else []
        return sub_event_types(event, production)


def get_order(conn: Connection, *, tenant: Tenant, order_key: str) -> OrderView:
    found = payments.find_order(conn, tenant=tenant, order_key=order_key)
    seats = [s for s in found.detail.seats if s["deleted_at"] is None]
    labels = catalog.get_place_labels(
        conn, tenant=tenant, event_ids={int(s["event_id"]) for s in seats}, hall_seat_ids=()
    )
    productions = {
        production_id: catalog.get_production(
            conn, tenant=tenant, production_id=production_id
        ).production
        for production_id in {int(e["production_id"]) for e in labels.events.values()}
    }
    return OrderView(found=found, labels=labels, productions=productions)


def get_paid_tickets(
    conn: Connection, *, tenant: Tenant, order_key: str, what: str
) -> tuple[PublicOrder, list[Ticket]]:
    """The order and its tickets, for its tickets PDF or receipt (`what`): 409 until paid."""
    found = payments.find_order(conn, tenant=tenant, order_key=order_key)
    tickets.require_paid(found.detail, what)
    return found, tickets.list_tickets(conn, tenant=tenant, detail=found.detail)


def get_payment_page(
    conn: Connection, *, tenant: Tenant, order_key: str
) -> tuple[PublicOrder, list[Ticket]]:
    """What the test provider's page shows (no secrets are rendered there)."""
    found = payments.find_order(conn, tenant=tenant, order_key=order_key)
    return found, tickets.list_tickets(conn, tenant=tenant, detail=found.detail)
