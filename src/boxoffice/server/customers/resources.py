"""UserResource: the one rendering of a customer, used by the customer routes and the exports."""

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from boxoffice.server.values.rendering import render_instant, render_money

# The columns of a customer row given to user_resource_of_row, in this order. Exports read
# hundreds of thousands of customers as plain tuples: a dict per row costs more than its
# rendering.
USER_ROW_COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "salutation",
    "preposition",
    "address",
    "house_nr",
    "zip",
    "city",
    "country",
    "phone",
    "credit_cents",
    "created_at",
    "last_changed_at",
)


def user_resource(row: Mapping[str, Any], tags: Sequence[str], tz: ZoneInfo) -> dict[str, Any]:
    """Render a `customers` row (all columns) and its tag names, keys in contract order."""
    return user_resource_of_row([row[name] for name in USER_ROW_COLUMNS], tags, tz)


def user_resource_of_row(row: Sequence[Any], tags: Sequence[str], tz: ZoneInfo) -> dict[str, Any]:
    """user_resource of a row given as a tuple in USER_ROW_COLUMNS order."""
    (
        customer_id,
        email,
        first_name,
        last_name,
        salutation,
        preposition,
        address,
        house_nr,
        zip_code,
        city,
        country,
        phone,
        credit_cents,
        created_at,
        last_changed_at,
    ) = row
    return {
        "customerId": customer_id,
        "email": email,
        "customerFirstName": first_name,
        "customerLastName": last_name,
        "customerSalutation": salutation,
        "customerPreposition": preposition,
        "customerAddress": address,
        "customerHouseNr": house_nr,
        "customerZip": zip_code,
        "customerCity": city,
        "customerCountry": country,
        "customerPhone": phone,
        "customerCredit": render_money(credit_cents),
        "clientTypes": sorted(tags),
        "createdAt": render_instant(created_at, tz),
        "lastChanged": render_instant(last_changed_at, tz),
    }
