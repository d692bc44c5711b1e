"""The public view of orders: placing one from a cart, reading it, its tickets and receipt.

Every read answers only to the order key (found by its hash, see payments/), and the
tickets and the receipt only once the order is paid.
"""

from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping

from boxoffice.server.catalog import service as catalog
from boxoffice.server.catalog.service import PlaceLabels
from boxoffice.server.db.transactions import Tx
from boxoffice.server.payments import service as payments
from boxoffice.server.payments.service import PlacedOrder, PublicOrder
from boxoffice.server.public.order_schemas import OrderCreateInput
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


def place_order(
    tx: Tx, *, tenant: Tenant, body: OrderCreateInput, base: str, reservation_minutes: int
) -> PlacedOrder | None:
    """Place the cart of `body` as an order and start its payment (payments/); `base` is
    the public API's URL for the client, where the payment pages are. None when the cart
    expired meanwhile (its holds are released; the caller commits that and answers 410)."""

    def urls_of(provider: str, order_key: str) -> payments.PaymentUrls:
        page = f"{base}/pay/{provider}/{order_key}"
        return payments.PaymentUrls(page=page, callback=page)

    request = payments.OrderRequest(
        cart_id=body.cart_id,
        payment_method_id=body.payment_id,
        redirect_url=body.redirect_url,
        buyer=payments.Buyer(
            email=body.email,
            first_name=body.firstname,
            last_name=body.lastname,
            phone=body.phone,
            address=body.address,
            city=body.city,
            zip=body.zip,
        ),
        optin=body.avg_optin,
        mailinglist=body.avg_mailinglist,
    )
    return payments.place_order(
        tx,
        tenant=tenant,
        request=request,
        reservation_minutes=reservation_minutes,
        urls_of=urls_of,
    )


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
