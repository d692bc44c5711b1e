"""HTTP routes of availability: an event with its places left per rank, and the seat plan.

They belong to the catalog in the API (tag `catalog`), but what they show is the live
state of the places, which this package owns.
"""

from typing import Annotated

from fastapi import Path, Response

from boxoffice.server.catalog.schemas import EventDetailResource, SeatPlanResource
from boxoffice.server.db.transactions import read_transaction
from boxoffice.server.deps import AppEngine
from boxoffice.server.errors import NotFound, Responses
from boxoffice.server.lenient import api_router
from boxoffice.server.places import resources, service
from boxoffice.server.responses import json_response
from boxoffice.server.tenancy.auth import CurrentTenant
from boxoffice.server.threadpool import on_loop, reads_first
from boxoffice.server.values.clock import now_micros

router = api_router(tags=["catalog"])

_NO_EVENT: Responses = NotFound.documented("Event not found.")
EventId = Annotated[int, Path(alias="eventId")]


@router.get("/event/{eventId}", response_model=EventDetailResource, responses=_NO_EVENT)
@reads_first
@on_loop
def get_event(tenant: CurrentTenant, engine: AppEngine, event_id: EventId) -> Response:
    with read_transaction(engine) as conn:
        places = service.get_event_counts(conn, tenant=tenant, event_id=event_id, now=now_micros())
        body = resources.event_detail_resource(places, tenant.timezone)
    return json_response(body)


@router.get("/seating/{eventId}", response_model=SeatPlanResource, responses=_NO_EVENT)
@reads_first
@on_loop
def get_seat_plan(tenant: CurrentTenant, engine: AppEngine, event_id: EventId) -> Response:
    """The hall plan with each seat's live availability (sections empty when unreserved)."""
    with read_transaction(engine) as conn:
        view = service.get_seat_plan(conn, tenant=tenant, event_id=event_id, now=now_micros())
    return Response(resources.seat_plan_json(view), media_type="application/json")
