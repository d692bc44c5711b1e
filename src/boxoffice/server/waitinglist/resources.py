"""WaitinglistExportResource: the one rendering of a waiting-list entry."""

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from boxoffice.server.values import render_instant, render_optional_instant


def waiting_resource(
    row: Mapping[str, Any], user: dict[str, Any] | None, tz: ZoneInfo
) -> dict[str, Any]:
    return {
        "waitingId": row["id"],
        "customerId": row["customer_id"],
        "eventId": row["event_id"],
        "numberOfTickets": row["number_of_tickets"],
        "type": row["type"],
        "createdAt": render_instant(row["created_at"], tz),
        "notifiedAt": render_optional_instant(row["notified_at"], tz),
        "lastChanged": render_instant(row["last_changed_at"], tz),
        "user": user,
    }
