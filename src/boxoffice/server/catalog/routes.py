"""HTTP routes of the catalog: events, productions, halls, payment methods."""

from typing import Annotated

from fastapi import Path, Query, Response

from boxoffice.server.catalog import resources, service
from boxoffice.server.catalog.resources import HALL, HallResource
from boxoffice.server.catalog.schemas import (
    EventResource,
    PaymentMethodResource,
    ProductionResource,
)
from boxoffice.server.db.transactions import read_transaction
from boxoffice.server.deps import AppEngine
from boxoffice.server.errors import NotFound
from boxoffice.server.lenient import api_router
from boxoffice.server.responses import json_response
from boxoffice.server.tenancy.auth import CurrentTenant

router = api_router(tags=["catalog"])

ProductionId = Annotated[int, Path(alias="productionId")]
HallId = Annotated[int, Path(alias="hallId")]
_NO_PRODUCTION = NotFound.documented("Production not found.")
_NO_HALL = NotFound.documented("Hall not found.")


@router.get("/event", response_model=list[EventResource])
def list_events(
    tenant: CurrentTenant,
    engine: AppEngine,
    start_date: Annotated[str | None, Query(alias="startDate")] = None,
    end_date: Annotated[str | None, Query(alias="endDate")] = None,
) -> Response:
    """Events starting on or after `startDate` and on or before `endDate` (a bare date
    includes that whole day), in start order."""
    with read_transaction(engine) as conn:
        views = service.list_events(conn, tenant=tenant, start_date=start_date, end_date=end_date)
        body = [resources.event_resource(v, tenant.timezone) for v in views]
    return json_response(body)


@router.get(
    "/production/{productionId}", response_model=ProductionResource, responses=_NO_PRODUCTION
)
def get_production(
    tenant: CurrentTenant, engine: AppEngine, production_id: ProductionId
) -> Response:
    with read_transaction(engine) as conn:
        view = service.get_production(conn, tenant=tenant, production_id=production_id)
        body = resources.production_resource(view, tenant.timezone)
    return json_response(body)


@router.get("/hall", response_model=HALL.list_model)
def list_halls(tenant: CurrentTenant, engine: AppEngine) -> Response:
    with read_transaction(engine) as conn:
        body = [resources.hall_resource(h) for h in service.list_halls(conn, tenant=tenant)]
    return json_response(body)


@router.get("/hall/{hallId}", response_model=HallResource, responses=_NO_HALL)
def get_hall(tenant: CurrentTenant, engine: AppEngine, hall_id: HallId) -> Response:
    with read_transaction(engine) as conn:
        body = resources.hall_resource(service.get_hall(conn, tenant=tenant, hall_id=hall_id))
    return json_response(body)


@router.get("/paymentmethods", response_model=list[PaymentMethodResource])
def list_payment_methods(tenant: CurrentTenant, engine: AppEngine) -> Response:
    with read_transaction(engine) as conn:
        body = resources.payment_methods_resource(service.list_payment_methods(conn, tenant=tenant))
    return json_response(body)
