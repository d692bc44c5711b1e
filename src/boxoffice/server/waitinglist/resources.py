"""WaitinglistExportResource: the one rendering of a waiting-list entry."""

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from boxoffice.server.values.rendering import render_instant

# The columns of an entry row given to waiting_resource_of_row, in this order.
WAITING_ROW_COLUMNS = (
    "id",
    "customer_id",
    "event_id",
    "number_of_tickets",
    "type",
    "created_at",
    "notified_at",
    "last_changed_at",
)


def waiting_resource(row: Mapping[str, Any], user: Any, tz: ZoneInfo) -> dict[str, Any]:
    """An entry and its customer's UserResource (a dict, an orjson.Fragment of one, or None)."""
    return waiting_resource_of_row([row[name] for name in WAITING_ROW_COLUMNS], user, tz)


def waiting_resource_of_row(row: Sequence[Any], user: Any, tz: ZoneInfo) -> dict[str, Any]:
    """waiting_resource of a row given as a tuple in WAITING_ROW_COLUMNS order."""
    entry_id, customer_id, event_id, tickets, kind, created_at, notified_at, changed_at = row
    return {
        "waitingId": entry_id,
        "customerId": customer_id,
        "eventId": event_id,
        "numberOfTickets": tickets,
        "type": kind,
        "createdAt": render_instant(created_at, tz),
        "notifiedAt": None if notified_at is None else render_instant(notified_at, tz),
        "lastChanged": render_instant(changed_at, tz),
        "user": user,
    }
