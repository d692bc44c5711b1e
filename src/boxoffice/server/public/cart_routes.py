"""Public cart routes: create a cart, hold tickets, read it, remove a ticket."""

from typing import Annotated

from fastapi import Body, Path, Response

from boxoffice.server.db.transactions import read_transaction, write_transaction
from boxoffice.server.deps import AppEngine, HoldMinutes
from boxoffice.server.errors import Conflict, Gone, NotFound
from boxoffice.server.lenient import api_router
from boxoffice.server.public import cart_service
from boxoffice.server.public.cart_resources import public_cart_resource
from boxoffice.server.public.order_schemas import CartArray, CartCreated, CartLineInput
from boxoffice.server.public.tenancy import PublicTenant
from boxoffice.server.responses import json_response
from boxoffice.server.values.clock import now_micros

router = api_router(tags=["public cart"])

CartIdPath = Annotated[str, Path(max_length=64)]


_NOT_FOUND = NotFound.documented("Cart not found (never created, ordered or deleted).")
_EXPIRED = Gone.documented("Cart expired: its places are no longer held.")


@router.post(
    "/cart",
    status_code=201,
    response_model=CartCreated,
    responses={201: {"headers": {"Location": {"description": "The new cart's URL."}}}},
)
def create_cart(tenant: PublicTenant, engine: AppEngine, hold_minutes: HoldMinutes) -> Response:
    """Create an empty cart; its places are held for `BOXOFFICE_CART_HOLD_MINUTES` after
    each change."""
    cart_id = cart_service.open_cart(engine, tenant=tenant, hold_minutes=hold_minutes)
    location = f"/v1/{tenant.name}/cart/{cart_id}"
    return json_response({"cart_id": cart_id}, 201, {"Location": location})


@router.post(
    "/cart/{cart_id}",
    response_model=CartArray,
    responses=_NOT_FOUND
    | Conflict.documented("Not enough places available, or the event is not on sale.")
    | _EXPIRED,
)
def add_tickets(
    tenant: PublicTenant,
    engine: AppEngine,
    hold_minutes: HoldMinutes,
    cart_id: CartIdPath,
    line: Annotated[CartLineInput, Body()],
) -> Response:
    """Hold `numberoftickets` best-available places of the event at the ticket type: all
    or none. Answers the whole cart."""
    with write_transaction(engine) as tx:
        cart = cart_service.add_tickets(
            tx,
            tenant=tenant,
            cart_id=cart_id,
            event_id=line.event_id,
            count=line.numberoftickets,
            discount_id=line.discount_id,
            hold_minutes=hold_minutes,
        )
        body = public_cart_resource(cart, tenant.timezone)
    return json_response(body)


@router.get("/cart/{cart_id}", response_model=CartArray, responses=_NOT_FOUND)
def get_cart(tenant: PublicTenant, engine: AppEngine, cart_id: CartIdPath) -> Response:
    """One object per ticket, then the total; `[{"cart": 0}]` when empty or expired."""
    with read_transaction(engine) as conn:
        cart = cart_service.get_cart(conn, tenant=tenant, cart_id=cart_id, now=now_micros())
        body = public_cart_resource(cart, tenant.timezone)
    return json_response(body)


_NO_TICKET = NotFound.documented("Cart or ticket not found.")


@router.delete(
    "/cart/{cart_id}/{seat_id}", response_model=CartArray, responses=_NO_TICKET | _EXPIRED
)
def remove_ticket(
    tenant: PublicTenant,
    engine: AppEngine,
    hold_minutes: HoldMinutes,
    cart_id: CartIdPath,
    seat_id: Annotated[str, Path(max_length=20)],
) -> Response:
    """Remove one ticket (its `seat_id`) and release its place; answers the cart."""
    if not seat_id.isascii() or not seat_id.isdigit() or not 0 < int(seat_id) <= 2**31 - 1:
        raise NotFound("Cart item")
    with write_transaction(engine) as tx:
        cart = cart_service.remove_ticket(
            tx, tenant=tenant, cart_id=cart_id, item_id=int(seat_id), hold_minutes=hold_minutes
        )
        body = public_cart_resource(cart, tenant.timezone)
    return json_response(body)
