"""HTTP routes of exports: parse the body, start the export, return the streaming response."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from boxoffice.server.customers.resources import UserResources
from boxoffice.server.deps import AppEngine, AppSettings
from boxoffice.server.exports import service
from boxoffice.server.exports.exporters import CUSTOMERS, ORDER_LIST, ORDERS, WAITINGLIST, Exporter
from boxoffice.server.exports.request import MAX_LIMIT, ExportRequest, parse_export_body
from boxoffice.server.exports.writers import JSON_ARRAY, choose_writer
from boxoffice.server.lenient import api_router
from boxoffice.server.orders.resources import OrderExportResources, OrderResources
from boxoffice.server.orders.schemas import parse_changed_since
from boxoffice.server.responses import json_response
from boxoffice.server.tenancy.auth import CurrentTenant
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.threadpool import on_loop, reads_first
from boxoffice.server.waitinglist.resources import WaitingResources

router = api_router(tags=["exports"])
# GET /order streams the orders export in the OrderResource shape: it lives here, with the
# export machinery, so that orders never imports exports.
order_list_router = api_router(tags=["orders"])


async def raw_body(request: Request) -> bytes:
    """The request body as bytes, whatever its Content-Type (curl -d sends a form type).

    It is read here, in the event loop, so that the route itself can be a plain `def` that
    runs in the thread pool. Its size is already bounded by the app's body-limit middleware.
    """
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]

_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "changedSince": {
            "type": "string",
            "description": "Inclusive lower bound on lastChanged: YYYY-MM-DD (midnight in the "
            "client's time zone) or an ISO 8601 date-time (without offset: client's zone).",
        },
        "changedUntil": {
            "type": "string",
            "description": "Extension: exclusive upper bound on lastChanged, same formats.",
        },
        "limit": {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                {"type": "string", "pattern": r"^\s*[+-]?\d+\s*$"},
            ],
            "description": "Extension: at most this many records; X-Next-Cursor when more "
            "remain. Also as a numeric string.",
        },
        "cursor": {
            "type": "string",
            "description": "Extension: the X-Next-Cursor of the previous page (same body).",
        },
    },
}
_EXPORT_DOC: dict[str, Any] = {
    "requestBody": {"required": False, "content": {"application/json": {"schema": _BODY_SCHEMA}}}
}
# The response models below are for the OpenAPI document only: the routes stream bytes.
_EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The records in ascending (lastChanged, id) order, streamed.",
        "content": {
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "Extension: one record per line."}
            }
        },
        "headers": {
            "X-Sync-Watermark": {
                "description": "Extension: pass back as changedSince to miss and repeat nothing.",
                "schema": {"type": "string", "format": "date-time"},
            },
            "X-Next-Cursor": {
                "description": "Extension: present when more records remain after `limit`.",
                "schema": {"type": "string"},
            },
        },
    }
}


def _export(
    exporter: Exporter,
    tenant: Tenant,
    engine: AppEngine,
    settings: AppSettings,
    body: bytes,
    accept: str | None,
) -> Response:
    export_request = parse_export_body(
        body, dataset=exporter.cursor_code, tenant=tenant, settings=settings
    )
    writer = choose_writer(accept, extensions=settings.extensions)
    return service.start_export(
        engine,
        settings,
        tenant=tenant,
        exporter=exporter,
        request=export_request,
        writer=writer,
    )


@router.get(
    "/export/clienttypes",
    summary="Every client type (tag name) of the client, sorted",
    response_model=list[str],
)
@reads_first
@on_loop
def export_client_types(tenant: CurrentTenant, engine: AppEngine) -> Response:
    return json_response(service.list_client_types(engine, tenant=tenant))


def _export_route(exporter: Exporter) -> Callable[..., Response]:
    def export(
        tenant: CurrentTenant,
        engine: AppEngine,
        settings: AppSettings,
        body: RawBody,
        request: Request,
    ) -> Response:
        return _export(exporter, tenant, engine, settings, body, request.headers.get("accept"))

    return export


# The three exports: one route each, the same parameters, their own dataset and schema.
for _name, _exporter, _summary, _model in (
    ("customers", CUSTOMERS, "Customers (UserResource)", UserResources),
    ("orders", ORDERS, "Orders (OrderExportResource)", OrderExportResources),
    (
        "waitinglist",
        WAITINGLIST,
        "Waiting-list entries (WaitinglistExportResource)",
        WaitingResources,
    ),
):
    router.add_api_route(
        f"/export/{_name}",
        _export_route(_exporter),
        methods=["POST"],
        name=f"export_{_name}",
        summary=_summary,
        response_model=_model,
        responses=_EXPORT_RESPONSES,
        openapi_extra=_EXPORT_DOC,
    )


@order_list_router.get(
    "/order",
    response_model=OrderResources,
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
    # The orders export's snapshot, watermark and streaming, in the OrderResource shape.
    return service.start_export(
        engine,
        settings,
        tenant=tenant,
        exporter=ORDER_LIST,
        request=ExportRequest(changed_since=since),
        writer=JSON_ARRAY,
    )
