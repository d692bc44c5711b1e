"""UserResource: the one rendering of a customer, used by the customer routes and the exports."""

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from boxoffice.server.fields import Resource, given, instant, integer, money, text

# A customer, keys in contract order. `personal` fields are cleared when the customer is
# erased; `writable` ones are set by POST and PUT /customer.
USER = Resource(
    "UserResource",
    "A customer (UserResource); `null` personal fields once erased.",
    (
        integer("customerId", "id"),
        text("email", "email", personal=True, writable=True),
        text("customerFirstName", "first_name", personal=True, writable=True),
        text("customerLastName", "last_name", personal=True, writable=True),
        text("customerSalutation", "salutation", personal=True, writable=True),
        text("customerPreposition", "preposition", personal=True, writable=True),
        text("customerAddress", "address", personal=True, writable=True),
        text("customerHouseNr", "house_nr", personal=True, writable=True),
        text("customerZip", "zip", personal=True, writable=True),
        text("customerCity", "city", personal=True, writable=True),
        text("customerCountry", "country", personal=True, writable=True),
        text("customerPhone", "phone", personal=True, writable=True),
        money("customerCredit", "credit_cents", writable=True),
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
