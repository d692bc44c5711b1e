"""UserResource: the one rendering of a customer, used by the customer routes and the exports."""

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from boxoffice.server.customers.inputs import (
    CreditChange,
    EmailChange,
    HouseNr,
    OptionalText,
    Phone,
    RequiredNameChange,
    Salutation,
    Zip,
)
from boxoffice.server.fields import Resource, given, instant, integer, money, text

# A customer, keys in contract order. `personal` fields are cleared when the customer is
# erased; `writable` ones are set by POST and PUT /customer, validated with the input type
# named (as PUT takes them; customers/schemas.py makes the request bodies from this table).
USER = Resource(
    "UserResource",
    "A customer (UserResource); `null` personal fields once erased.",
    (
        integer("customerId", "id"),
        text("email", "email", personal=True, writable=EmailChange),
        text("customerFirstName", "first_name", personal=True, writable=OptionalText),
        text("customerLastName", "last_name", personal=True, writable=RequiredNameChange),
        text("customerSalutation", "salutation", personal=True, writable=Salutation),
        text("customerPreposition", "preposition", personal=True, writable=OptionalText),
        text("customerAddress", "address", personal=True, writable=OptionalText),
        text("customerHouseNr", "house_nr", personal=True, writable=HouseNr),
        text("customerZip", "zip", personal=True, writable=Zip),
        text("customerCity", "city", personal=True, writable=OptionalText),
        text("customerCountry", "country", personal=True, writable=OptionalText),
        text("customerPhone", "phone", personal=True, writable=Phone),
        money("customerCredit", "credit_cents", writable=CreditChange),
        given("clientTypes", list[str]),
        instant("createdAt", "created_at"),
        instant("lastChanged", "last_changed_at"),
    ),
)
UserResource = USER.model
UserResources = USER.list_model

# The columns of a customer row given to user_resource_of_row, in this order. Exports read
# hundreds of thousands of customers as plain tuples: a dict per row costs more than its
# rendering.
USER_ROW_COLUMNS = USER.columns
_render = USER.renderer()


def user_resource(row: Mapping[str, Any], tags: Sequence[str], tz: ZoneInfo) -> dict[str, Any]:
    """Render a `customers` row (all columns) and its tag names, keys in contract order."""
    return _render([row[name] for name in USER_ROW_COLUMNS], tz, sorted(tags))


def user_resource_of_row(row: Sequence[Any], tags: Sequence[str], tz: ZoneInfo) -> dict[str, Any]:
    """user_resource of a row given as a tuple in USER_ROW_COLUMNS order."""
    return _render(row, tz, sorted(tags))
