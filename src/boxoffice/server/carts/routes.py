"""HTTP routes of carts: create, add and remove items, read, empty, and check out."""

from typing import Annotated

from fastapi import Body, Response

from boxoffice.server.carts import resources, service
from boxoffice.server.carts.resources import CartResource, CartSummaryResource
from boxoffice.server.carts.schemas import (
    CartId,
    CartItemInput,
    CheckoutInput,
    ItemId,
)
from boxoffice.server.carts.service import CartView
from boxoffice.server.db.transactions import read_transaction, write_transaction
from boxoffice.server.deps import AppEngine, HoldMinutes
from boxoffice.server.errors import Conflict, Gone, NotFound, Responses
from boxoffice.server.lenient import api_router
from boxoffice.server.orders.resources import OrderExportResource
from boxoffice.server.responses import json_response
from boxoffice.server.tenancy.auth import CurrentTenant
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.threadpool import on_loop, writes_first
from boxoffice.server.values.clock import now_micros

router = api_router(tags=["cart"])


_NOT_FOUND = NotFound.documented("Cart not found (never created, checked out or deleted).")
_EXPIRED = Gone.documented("Cart expired: its timeOut has passed.")
_READ: Responses = _NOT_FOUND | _EXPIRED
_HOLD: Responses = (
    _NOT_FOUND
    | Conflict.documented(
        "Not enough places, or a named seat is taken, blocked or of another rank."
    )
    | _EXPIRED
)


@router.post("/cart", status_code=201, response_model=CartResource)
@on_loop
def create_cart(tenant: CurrentTenant, engine: AppEngine, hold_minutes: HoldMinutes) -> Response:
    """Create an empty cart (extension); it lasts `timeOut`, moved on by every change."""
    view = service.open_cart(engine, tenant=tenant, hold_minutes=hold_minutes)
    return json_response(resources.cart_resource(view, tenant.timezone), 201)


@router.post("/cart/{cartId}", response_model=CartResource, responses=_HOLD)
@writes_first
@on_loop
def add_items(
    tenant: CurrentTenant,
    engine: AppEngine,
    hold_minutes: HoldMinutes,
    cart_id: CartId,
    items: Annotated[list[CartItemInput], Body()],
) -> Response:
    """Hold places: all lines or none (409 when not enough places are available)."""
    view = service.hold_items(
        engine, tenant=tenant, cart_id=cart_id, lines=items, hold_minutes=hold_minutes
    )
    return json_response(resources.cart_resource(view, tenant.timezone))


def _read_cart(tenant: Tenant, engine: AppEngine, cart_id: str) -> CartView:
    with read_transaction(engine) as conn:
        return service.get_cart(conn, tenant=tenant, cart_id=cart_id, now=now_micros())


@router.get("/cart/{cartId}", response_model=CartResource, responses=_READ)
def get_cart(tenant: CurrentTenant, engine: AppEngine, cart_id: CartId) -> Response:
    view = _read_cart(tenant, engine, cart_id)
    return json_response(resources.cart_resource(view, tenant.timezone))


@router.get("/cart/{cartId}/summary", response_model=CartSummaryResource, responses=_READ)
def get_cart_summary(tenant: CurrentTenant, engine: AppEngine, cart_id: CartId) -> Response:
    view = _read_cart(tenant, engine, cart_id)
    return json_response(resources.cart_summary_resource(view, tenant.timezone))


_REMOVE: Responses = NotFound.documented("Cart or cart item not found.") | _EXPIRED


@router.delete("/cart/{cartId}/{itemId}", response_model=CartResource, responses=_REMOVE)
@writes_first
@on_loop
def remove_item(
    tenant: CurrentTenant,
    engine: AppEngine,
    hold_minutes: HoldMinutes,
    cart_id: CartId,
    item_id: ItemId,
) -> Response:
    with write_transaction(engine) as tx:
        view = service.remove_item(
            tx, tenant=tenant, cart_id=cart_id, item_id=item_id, hold_minutes=hold_minutes
        )
    return json_response(resources.cart_resource(view, tenant.timezone))


@router.delete("/cart/{cartId}", status_code=204, response_class=Response, responses=_NOT_FOUND)
@writes_first
@on_loop
def discard_cart(tenant: CurrentTenant, engine: AppEngine, cart_id: CartId) -> Response:
    """Release every place and close the cart; afterwards it is not found."""
    with write_transaction(engine) as tx:
        service.discard_cart(tx, tenant=tenant, cart_id=cart_id)
    return Response(status_code=204)


@router.post(
    "/cart/{cartId}/checkout",
    status_code=201,
    response_model=OrderExportResource,
    responses=_NOT_FOUND | Gone.documented("Cart expired; its places have been released."),
)
@writes_first
@on_loop
def check_out(
    tenant: CurrentTenant, engine: AppEngine, cart_id: CartId, body: CheckoutInput
) -> Response:
    """Place one order from the cart; 410 (and its places released) when it expired."""
    with write_transaction(engine) as tx:
        placed = service.check_out(tx, tenant=tenant, cart_id=cart_id, request=body, last=True)
    if placed is None:
        # Raised after the commit, so that releasing the expired cart's places sticks.
        raise service.CartExpired()
    return json_response(resources.placed_order_resource(placed, tenant.timezone), 201)
