"""Public catalog routes: events, ticket types, locations, event types, payment methods."""

from typing import Annotated

from fastapi import Path, Response

from boxoffice.server.db.transactions import read_transaction
from boxoffice.server.deps import AppEngine
from boxoffice.server.lenient import api_router
from boxoffice.server.public import resources, service
from boxoffice.server.public.errors import PublicNotFound
from boxoffice.server.public.schemas import (
    EventTypeResource,
    LocationResource,
    MainEventResource,
    PaymentMethodResource,
    TicketTypeResource,
)
from boxoffice.server.public.tenancy import PublicTenant
from boxoffice.server.responses import json_response
from boxoffice.server.values.clock import now_micros

router = api_router(tags=["public catalog"])


@router.get("/events", response_model=list[MainEventResource])
def list_events(tenant: PublicTenant, engine: AppEngine) -> Response:
    """Every main event with its listed sub-events, in start order."""
    with read_transaction(engine) as conn:
        catalog = service.list_main_events(conn, tenant=tenant, now=now_micros())
        body = resources.catalog_resource(catalog, tenant.timezone)
    return json_response(body)


@router.get("/events/upcoming", response_model=list[MainEventResource])
def list_upcoming_events(tenant: PublicTenant, engine: AppEngine) -> Response:
    """Main events with sub-events still to start, with only those."""
    with read_transaction(engine) as conn:
        catalog = service.list_upcoming(conn, tenant=tenant, now=now_micros())
        body = resources.catalog_resource(catalog, tenant.timezone)
    return json_response(body)


@router.get(
    "/events/{event_id}",
    response_model=list[MainEventResource],
    responses=PublicNotFound.documented("Event not found"),
)
def get_event(
    tenant: PublicTenant, engine: AppEngine, event_id: Annotated[str, Path()]
) -> Response:
    """A main event with its sub-events, or a sub-event inside its main event (one element)."""
    with read_transaction(engine) as conn:
        catalog = service.get_main_event(conn, tenant=tenant, now=now_micros(), event_id=event_id)
        body = resources.catalog_resource(catalog, tenant.timezone)
    return json_response(body)


@router.get(
    "/tickettypes/{event_id}",
    response_model=list[TicketTypeResource],
    responses=PublicNotFound.documented("sub_event not found"),
)
def list_ticket_types(
    tenant: PublicTenant, engine: AppEngine, event_id: Annotated[str, Path()]
) -> Response:
    """The prices of a sub-event as ticket types."""
    with read_transaction(engine) as conn:
        found = service.list_ticket_types(conn, tenant=tenant, event_id=event_id)
    return json_response([resources.ticket_type_resource(t) for t in found])


@router.get("/locations", response_model=list[LocationResource])
def list_locations(tenant: PublicTenant, engine: AppEngine) -> Response:
    with read_transaction(engine) as conn:
        halls = service.list_locations(conn, tenant=tenant)
    return json_response([resources.location_resource(h) for h in halls])


@router.get(
    "/locations/{location_id}",
    response_model=list[LocationResource],
    responses=PublicNotFound.documented("Location not found"),
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
    with read_transaction(engine) as conn:
        found = service.list_event_type_names(conn, tenant=tenant)
    return json_response([{"eventtype_name": name} for name in found])


@router.get("/eventtypes/{name}", response_model=list[MainEventResource])
def list_events_of_type(
    tenant: PublicTenant, engine: AppEngine, name: Annotated[str, Path()]
) -> Response:
    """The main events with listed sub-events of that type, with only those; `[]` if none."""
    with read_transaction(engine) as conn:
        catalog = service.list_main_events_of_type(conn, tenant=tenant, now=now_micros(), name=name)
        body = resources.catalog_resource(catalog, tenant.timezone)
    return json_response(body)


@router.get("/paymentmethods", response_model=list[PaymentMethodResource])
def list_payment_methods(tenant: PublicTenant, engine: AppEngine) -> Response:
    """The payment methods offered online."""
    with read_transaction(engine) as conn:
        methods = service.list_payment_methods(conn, tenant=tenant)
    return json_response([resources.payment_method_resource(m) for m in methods])
