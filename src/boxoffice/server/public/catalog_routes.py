"""Public catalog routes: events, ticket types, locations, event types, payment methods."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Path, Request, Response

from boxoffice.server.db.transactions import read_transaction
from boxoffice.server.deps import AppEngine
from boxoffice.server.lenient import api_router
from boxoffice.server.public import resources, service
from boxoffice.server.public.errors import (
    EVENT_NOT_FOUND,
    LOCATION_NOT_FOUND,
    SUB_EVENT_NOT_FOUND,
    PublicNotFound,
)
from boxoffice.server.public.schemas import (
    EventTypeResource,
    LocationResource,
    MainEventResource,
    PaymentMethodResource,
    TicketTypeResource,
)
from boxoffice.server.public.tenancy import PublicTenant
from boxoffice.server.public.urls import origin
from boxoffice.server.responses import json_response
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.values.clock import now_micros

router = api_router(tags=["public catalog"])

EventIdPath = Annotated[str, Path()]
_MAIN_EVENTS = list[MainEventResource]


def _main_events(
    request: Request,
    engine: AppEngine,
    tenant: Tenant,
    find: Callable[..., service.Catalog],
    **criteria: str,
) -> Response:
    """The main events `find` lists now (with `criteria`), rendered."""
    with read_transaction(engine) as conn:
        catalog = find(conn, tenant=tenant, now=now_micros(), **criteria)
        body = resources.catalog_resource(catalog, tenant.timezone, origin(request))
    return json_response(body)


@router.get("/events", response_model=_MAIN_EVENTS)
def list_events(request: Request, tenant: PublicTenant, engine: AppEngine) -> Response:
    """Every main event with its listed sub-events, in start order."""
    return _main_events(request, engine, tenant, service.list_main_events)


@router.get("/events/upcoming", response_model=_MAIN_EVENTS)
def list_upcoming_events(request: Request, tenant: PublicTenant, engine: AppEngine) -> Response:
    """Main events with sub-events still to start, with only those."""
    return _main_events(request, engine, tenant, service.list_upcoming)


@router.get(
    "/events/{event_id}",
    response_model=_MAIN_EVENTS,
    responses=PublicNotFound.documented(EVENT_NOT_FOUND),
)
def get_event(
    request: Request, tenant: PublicTenant, engine: AppEngine, event_id: EventIdPath
) -> Response:
    """A main event with its sub-events, or a sub-event inside its main event (one element)."""
    return _main_events(request, engine, tenant, service.get_main_event, event_id=event_id)


@router.get("/eventtypes/{name}", response_model=_MAIN_EVENTS)
def list_events_of_type(
    request: Request, tenant: PublicTenant, engine: AppEngine, name: Annotated[str, Path()]
) -> Response:
    """The main events with listed sub-events of that type, with only those; `[]` if none."""
    return _main_events(request, engine, tenant, service.list_main_events_of_type, name=name)


def _listed(
    engine: AppEngine, tenant: Tenant, find: Callable[..., Any], **criteria: str
) -> list[Any]:
    with read_transaction(engine) as conn:
        found: list[Any] = find(conn, tenant=tenant, **criteria)
    return found


@router.get(
    "/tickettypes/{event_id}",
    response_model=list[TicketTypeResource],
    responses=PublicNotFound.documented(SUB_EVENT_NOT_FOUND),
)
def list_ticket_types(tenant: PublicTenant, engine: AppEngine, event_id: EventIdPath) -> Response:
    """The prices of a sub-event as ticket types."""
    found = _listed(engine, tenant, service.list_ticket_types, event_id=event_id)
    return json_response([resources.ticket_type_resource(t) for t in found])


@router.get("/locations", response_model=list[LocationResource])
def list_locations(tenant: PublicTenant, engine: AppEngine) -> Response:
    halls = _listed(engine, tenant, service.list_locations)
    return json_response([resources.location_resource(h) for h in halls])


@router.get(
    "/locations/{location_id}",
    response_model=list[LocationResource],
    responses=PublicNotFound.documented(LOCATION_NOT_FOUND),
)
def get_location(
    tenant: PublicTenant, engine: AppEngine, location_id: Annotated[str, Path()]
) -> Response:
    """One location, as a one-element array like the list."""
    with read_transaction(engine) as conn:
        hall = service.get_location(conn, tenant=tenant, location_id=location_id)
    return json_response([resources.location_resource(hall)])


@router.get("/eventtypes", response_model=list[EventTypeResource])
def list_event_types(tenant: PublicTenant, engine: AppEngine) -> Response:
    found = _listed(engine, tenant, service.list_event_type_names)
    return json_response([{"eventtype_name": name} for name in found])


@router.get("/paymentmethods", response_model=list[PaymentMethodResource])
def list_payment_methods(tenant: PublicTenant, engine: AppEngine) -> Response:
    """The payment methods offered online."""
    methods = _listed(engine, tenant, service.list_payment_methods)
    return json_response([resources.payment_method_resource(m) for m in methods])
