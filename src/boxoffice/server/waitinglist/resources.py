"""WaitinglistExportResource: the one rendering of a waiting-list entry."""

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from boxoffice.server.customers.resources import USER
from boxoffice.server.fields import Resource, instant, integer, nested, optional_instant, text
from boxoffice.server.waitinglist.schemas import WaitingType

# A waiting-list entry with its customer inline, keys in contract order.
WAITING = Resource(
    "WaitingResource",
    "A waiting-list entry (WaitinglistExportResource) with its customer inline.",
    (
        integer("waitingId", "id"),
        integer("customerId", "customer_id"),
        integer("eventId", "event_id"),
        integer("numberOfTickets", "number_of_tickets"),
        text("type", "type", WaitingType),
        instant("createdAt", "created_at"),
        optional_instant("notifiedAt", "notified_at"),
        instant("lastChanged", "last_changed_at"),
        nested("user", USER, nullable=True),
    ),
)
WaitingResource = WAITING.model
WaitingResources = WAITING.list_model

# The columns of an entry row given to waiting_resource_of_row, in this order.
WAITING_ROW_COLUMNS = WAITING.columns
_render = WAITING.renderer()


def waiting_resource(row: Mapping[str, Any], user: Any, tz: ZoneInfo) -> dict[str, Any]:
    """An entry and its customer's UserResource (a dict, an orjson.Fragment of one, or None)."""
    return _render([row[name] for name in WAITING_ROW_COLUMNS], tz, user)


def waiting_resource_of_row(row: Sequence[Any], user: Any, tz: ZoneInfo) -> dict[str, Any]:
    """waiting_resource of a row given as a tuple in WAITING_ROW_COLUMNS order."""
    return _render(row, tz, user)
