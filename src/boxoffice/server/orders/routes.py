"""HTTP routes of orders: parse, one service call, render with orders/resources.py."""

from collections.abc import Iterator, Mapping
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from boxoffice.server.customers.resources import user_resource
from boxoffice.server.db.transactions import (
    Snapshot,
    close_snapshot,
    open_export_snapshot,
    read_transaction,
    write_transaction,
)
from boxoffice.server.deps import AppEngine, AppSettings
from boxoffice.server.http import json_response
from boxoffice.server.orders import service
from boxoffice.server.orders.resources import order_export_resource, order_resource
from boxoffice.server.orders.schemas import (
    OrderExportResource,
    OrderId,
    OrderResource,
    OrderUpdate,
    SeatId,
    parse_changed_since,
)
from boxoffice.server.orders.service import OrderDetail
from boxoffice.server.tenancy.auth import CurrentTenant
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.values import micros_to_instant


def _error(description: str) -> dict[str, Any]:
    """An error response in the OpenAPI document: the contract's {message, errors?} body."""
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


router = APIRouter(tags=["orders"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _error("Order not found.")}
_CHUNK_BYTES = 64 * 1024


class _SnapshotCloser:
    """Closes the snapshot exactly once: after the stream, or after a broken stream."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot: Snapshot | None = snapshot

    def __call__(self) -> None:
        snapshot, self.snapshot = self.snapshot, None
        if snapshot is not None:
            close_snapshot(snapshot)


def _json_array(
    rows: Iterator[Mapping[str, Any]], tz: ZoneInfo, close: _SnapshotCloser
) -> Iterator[bytes]:
    try:
        buffer = bytearray(b"[")
        separator = b""
        for row in rows:
            buffer += separator + orjson.dumps(order_resource(row, tz))
            separator = b","
            if len(buffer) >= _CHUNK_BYTES:
                yield bytes(buffer)
                buffer.clear()
        buffer += b"]"
        yield bytes(buffer)
    finally:
        close()


@router.get(
    "/order",
    response_model=list[OrderResource],
    responses={
        200: {"headers": {"X-Sync-Watermark": {"description": "Pass back as changedSince."}}},
    },
)
def list_orders(
    tenant: CurrentTenant,
    engine: AppEngine,
    settings: AppSettings,
    changed_since: Annotated[
        str | None,
        Query(alias="changedSince", description="Inclusive lower bound on lastChanged."),
    ] = None,
) -> Response:
    since = parse_changed_since(changed_since, tenant.timezone)
    # The export snapshot: every order stamped before the watermark is in it, so passing
    # the watermark (or the largest lastChanged seen) back never misses a change.
    snapshot = open_export_snapshot(engine)
    close = _SnapshotCloser(snapshot)
    try:
        rows = service.stream_orders(
            snapshot.conn, tenant_id=tenant.id, changed_since=since, watermark=snapshot.watermark
        )
        headers = {}
        if settings.extensions:
            # Rendered like the exports' watermark: with microseconds.
            watermark = micros_to_instant(snapshot.watermark, tenant.timezone)
            headers["X-Sync-Watermark"] = watermark.isoformat(timespec="microseconds")
        return StreamingResponse(
            _json_array(rows, tenant.timezone, close),
            media_type="application/json",
            headers=headers,
            background=BackgroundTask(close),
        )
    except BaseException:
        close()
        raise


@router.get("/order/{orderId}", response_model=OrderResource, responses=_NOT_FOUND)
def get_order(tenant: CurrentTenant, engine: AppEngine, order_id: OrderId) -> Response:
    with read_transaction(engine) as conn:
        row = service.get_order(conn, tenant_id=tenant.id, order_id=order_id)
    return json_response(order_resource(row, tenant.timezone))


@router.put(
    "/order/{orderId}",
    response_model=OrderResource,
    responses={
        **_NOT_FOUND,
        409: _error("Re-opening the order: a place has been taken meanwhile."),
    },
)
def update_order(
    tenant: CurrentTenant, engine: AppEngine, order_id: OrderId, body: OrderUpdate
) -> Response:
    with write_transaction(engine) as tx:
        row = service.update_order(
            tx, tenant_id=tenant.id, order_id=order_id, changes=body.columns()
        )
    return json_response(order_resource(row, tenant.timezone))


def _render_detail(detail: OrderDetail, tenant: Tenant) -> Response:
    tz = tenant.timezone
    customer = detail.customer
    user = None if customer is None else user_resource(customer.row, customer.tags, tz)
    return json_response(order_export_resource(detail.row, detail.seats, user, tz))


@router.delete(
    "/order/{orderId}/seat/{seatId}",
    response_model=OrderExportResource,
    responses={404: _error("Order or seat not found (or the seat is removed already).")},
)
def remove_seat(
    tenant: CurrentTenant, engine: AppEngine, order_id: OrderId, seat_id: SeatId
) -> Response:
    with write_transaction(engine) as tx:
        detail = service.remove_seat(tx, tenant_id=tenant.id, order_id=order_id, seat_id=seat_id)
    return _render_detail(detail, tenant)
