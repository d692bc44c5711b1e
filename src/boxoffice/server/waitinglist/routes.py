"""HTTP routes of the waiting list (extension)."""

from collections.abc import Mapping
from typing import Annotated, Any, cast

from fastapi import Query, Response

from boxoffice.server.customers.resources import user_resource
from boxoffice.server.customers.schemas import MAX_ID
from boxoffice.server.db.transactions import read_transaction, write_transaction
from boxoffice.server.deps import AppEngine
from boxoffice.server.errors import Conflict, NotFound
from boxoffice.server.lenient import api_router
from boxoffice.server.responses import json_response
from boxoffice.server.tenancy.auth import CurrentTenant
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.waitinglist import resources, service
from boxoffice.server.waitinglist.resources import WaitingResource, WaitingResources
from boxoffice.server.waitinglist.schemas import WaitingCreate, WaitingId, WaitingUpdate
from boxoffice.server.waitinglist.service import WaitingView

router = api_router(tags=["waitinglist"])

_ON_LIST = Conflict.documented("The customer is on this list already, or the event has ended.")
_NO_EVENT = NotFound.documented("Event not found.")
_NO_ENTRY = NotFound.documented("Waiting list entry not found.")
EventIdQuery = Annotated[int | None, Query(alias="eventId", gt=0, le=MAX_ID)]


def _render(view: WaitingView, tenant: Tenant) -> dict[str, Any]:
    customer = view.customer
    user = None if customer is None else user_resource(customer, view.tags, tenant.timezone)
    # RowMapping is typed with `str | Column` keys; rows of select(table) are keyed by name.
    return resources.waiting_resource(cast("Mapping[str, Any]", view.entry), user, tenant.timezone)


@router.post("/waitinglist", status_code=201, response_model=WaitingResource, responses=_ON_LIST)
def join_waiting_list(tenant: CurrentTenant, engine: AppEngine, body: WaitingCreate) -> Response:
    with write_transaction(engine) as tx:
        view = service.join_waiting_list(tx, tenant=tenant, request=body)
    return json_response(_render(view, tenant), 201)


@router.get("/waitinglist", response_model=WaitingResources, responses=_NO_EVENT)
def list_waiting_list(
    tenant: CurrentTenant, engine: AppEngine, event_id: EventIdQuery = None
) -> Response:
    """The entries of `eventId` (all events without it), first come first served."""
    with read_transaction(engine) as conn:
        views = service.list_entries(conn, tenant=tenant, event_id=event_id)
    return json_response([_render(v, tenant) for v in views])


@router.put("/waitinglist/{waitingId}", response_model=WaitingResource, responses=_NO_ENTRY)
def change_waiting_entry(
    tenant: CurrentTenant, engine: AppEngine, waiting_id: WaitingId, body: WaitingUpdate
) -> Response:
    with write_transaction(engine) as tx:
        view = service.change_entry(tx, tenant=tenant, waiting_id=waiting_id, request=body)
    return json_response(_render(view, tenant))
