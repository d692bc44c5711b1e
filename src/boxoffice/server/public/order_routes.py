"""Public order routes: place an order from a cart, read it, its tickets PDF and receipt."""

from typing import Annotated

from fastapi import Body, Path, Request, Response
from fastapi.responses import HTMLResponse

from boxoffice.server.carts.service import CartExpired
from boxoffice.server.db.transactions import read_transaction, write_transaction
from boxoffice.server.deps import AppEngine, AppSettings
from boxoffice.server.errors import Conflict, Gone, NotFound
from boxoffice.server.lenient import api_router
from boxoffice.server.public import order_service
from boxoffice.server.public.order_resources import public_order_resource
from boxoffice.server.public.order_schemas import (
    OrderCreated,
    OrderCreateInput,
    PublicOrderResource,
)
from boxoffice.server.public.tenancy import PublicTenant
from boxoffice.server.public.urls import public_base
from boxoffice.server.responses import json_response
from boxoffice.server.tickets.pdf import render_tickets
from boxoffice.server.tickets.receipt import render_receipt

router = api_router(tags=["public orders"])

OrderKey = Annotated[str, Path(max_length=64)]
# The order key is the buyer's credential: keep pages with it out of caches and referrers.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


_NOT_FOUND = NotFound.documented("No order with this key.")
_NOT_PAID = Conflict.documented("The order is not paid (yet).")


@router.post(
    "/order/create",
    response_model=list[OrderCreated],
    responses=NotFound.documented("Cart not found.")
    | Conflict.documented("A place of the cart was taken meanwhile.")
    | Gone.documented("Cart expired."),
)
def create_order(
    request: Request,
    tenant: PublicTenant,
    engine: AppEngine,
    settings: AppSettings,
    body: Annotated[OrderCreateInput, Body()],
) -> Response:
    """Place the cart as an order of the customer with this email (created when new) and
    start its payment: `url` is where the buyer pays (the cart's places stay held for the
    order until then), and paying sends them to `redirectURL?return=<order_key>`."""
    with write_transaction(engine) as tx:
        placed = order_service.place_order(
            tx,
            tenant=tenant,
            body=body,
            base=public_base(request, tenant),
            reservation_minutes=settings.reservation_minutes,
        )
    if placed is None:
        # The cart expired meanwhile; the release of its places is committed above.
        raise CartExpired()
    return json_response([{"url": placed.url, "order_key": placed.order_key}])


@router.get("/order/{order_key}", response_model=PublicOrderResource, responses=_NOT_FOUND)
def get_order(
    request: Request, tenant: PublicTenant, engine: AppEngine, order_key: OrderKey
) -> Response:
    """The order's payment status and tickets; nothing personal."""
    with read_transaction(engine) as conn:
        view = order_service.get_order(conn, tenant=tenant, order_key=order_key)
    body = public_order_resource(view, public_base(request, tenant))
    return json_response(body, headers=PRIVATE_HEADERS)


@router.get(
    "/order/{order_key}/tickets",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "One ticket a page."},
    }
    | _NOT_FOUND
    | _NOT_PAID,
)
def get_tickets(tenant: PublicTenant, engine: AppEngine, order_key: OrderKey) -> Response:
    """The tickets as a PDF, one a page, each with a QR code of its own secret."""
    with read_transaction(engine) as conn:
        found, tickets = order_service.get_paid_tickets(
            conn, tenant=tenant, order_key=order_key, what="tickets"
        )
    key = str(found.detail.row["order_key"])
    pdf = render_tickets(tickets, order_key=key, client_name=tenant.name)
    headers = {**PRIVATE_HEADERS, "Content-Disposition": f'inline; filename="tickets-{key}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get(
    "/order/{order_key}/receipt",
    response_class=HTMLResponse,
    responses=_NOT_FOUND | _NOT_PAID,
)
def get_receipt(tenant: PublicTenant, engine: AppEngine, order_key: OrderKey) -> Response:
    """The receipt of a paid order, as an HTML page."""
    with read_transaction(engine) as conn:
        found, tickets = order_service.get_paid_tickets(
            conn, tenant=tenant, order_key=order_key, what="receipt"
        )
    html = render_receipt(found.detail, tickets, tenant)
    return HTMLResponse(html, headers=PRIVATE_HEADERS)
