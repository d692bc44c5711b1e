"""UserResource: the one rendering of a customer, used by the customer routes and the exports."""

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from boxoffice.server.values import render_instant, render_money


def user_resource(row: Mapping[str, Any], tags: Sequence[str], tz: ZoneInfo) -> dict[str, Any]:
    """Render a `customers` row (all columns) and its tag names, keys in contract order."""
    return {
        "customerId": row["id"],
        "email": row["email"],
        "customerFirstName": row["first_name"],
        "customerLastName": row["last_name"],
        "customerSalutation": row["salutation"],
        "customerPreposition": row["preposition"],
        "customerAddress": row["address"],
        "customerHouseNr": row["house_nr"],
        "customerZip": row["zip"],
        "customerCity": row["city"],
        "customerCountry": row["country"],
        "customerPhone": row["phone"],
        "customerCredit": render_money(row["credit_cents"]),
        "clientTypes": sorted(tags),
        "createdAt": render_instant(row["created_at"], tz),
        "lastChanged": render_instant(row["last_changed_at"], tz),
    }
