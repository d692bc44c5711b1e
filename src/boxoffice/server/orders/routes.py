"""HTTP routes of orders: parse, one service call, render with orders/resources.py."""

from fastapi import Response

from boxoffice.server.customers.resources import user_resource
from boxoffice.server.db.transactions import read_transaction, write_transaction
from boxoffice.server.deps import AppEngine
from boxoffice.server.errors import Conflict, NotFound, Responses
from boxoffice.server.lenient import api_router
from boxoffice.server.orders import resources, service
from boxoffice.server.orders.resources import OrderExportResource, OrderResource
from boxoffice.server.orders.schemas import OrderId, OrderUpdate, SeatId
from boxoffice.server.orders.service import OrderDetail
from boxoffice.server.responses import json_response
from boxoffice.server.tenancy.auth import CurrentTenant
from boxoffice.server.tenancy.service import Tenant

router = api_router(tags=["orders"])

_NOT_FOUND: Responses = NotFound.documented("Order not found.")
_TAKEN: Responses = Conflict.documented("Re-opening the order: a place has been taken meanwhile.")
_NO_SEAT: Responses = NotFound.documented(
    "Order or seat not found (or the seat is removed already)."
)


@router.get("/order/{orderId}", response_model=OrderResource, responses=_NOT_FOUND)
def get_order(tenant: CurrentTenant, engine: AppEngine, order_id: OrderId) -> Response:
    with read_transaction(engine) as conn:
        row = service.get_order(conn, tenant_id=tenant.id, order_id=order_id)
    return json_response(resources.order_resource(row, tenant.timezone))


@router.put("/order/{orderId}", response_model=OrderResource, responses=_NOT_FOUND | _TAKEN)
def update_order(
    tenant: CurrentTenant, engine: AppEngine, order_id: OrderId, body: OrderUpdate
) -> Response:
    with write_transaction(engine) as tx:
        row = service.update_order(
            tx, tenant_id=tenant.id, order_id=order_id, changes=body.columns()
        )
    return json_response(resources.order_resource(row, tenant.timezone))


def _render_detail(detail: OrderDetail, tenant: Tenant) -> Response:
    tz = tenant.timezone
    customer = detail.customer
    user = None if customer is None else user_resource(customer.row, customer.tags, tz)
    return json_response(resources.order_export_resource(detail.row, detail.seats, user, tz))


@router.delete(
    "/order/{orderId}/seat/{seatId}", response_model=OrderExportResource, responses=_NO_SEAT
)
def remove_seat(
    tenant: CurrentTenant, engine: AppEngine, order_id: OrderId, seat_id: SeatId
) -> Response:
    with write_transaction(engine) as tx:
        detail = service.remove_seat(tx, tenant_id=tenant.id, order_id=order_id, seat_id=seat_id)
    return _render_detail(detail, tenant)
