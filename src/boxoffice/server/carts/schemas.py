"""Request parsing and response schemas of the cart endpoints (camelCase on the wire)."""

from typing import Annotated, Literal

from fastapi import Path
from pydantic import BeforeValidator, ConfigDict, Field, StrictBool, WithJsonSchema
from pydantic_core import PydanticCustomError

from boxoffice.server.customers.schemas import MAX_ID
from boxoffice.server.errors import InvalidInput
from boxoffice.server.lenient import BooleanInput, IntegerInput
from boxoffice.server.schemas import ApiModel
from boxoffice.server.values.money import parse_money

# Most tickets one item (and so one request line) may ask for.
MAX_TICKETS_PER_ITEM = 20

CartId = Annotated[str, Path(alias="cartId")]
ItemId = Annotated[int, Path(alias="itemId", gt=0, le=MAX_ID)]

_Id = Annotated[int, Field(strict=True, gt=0, le=MAX_ID)]
# Ids also as numeric strings, "" as null (docs/input.md).
Id = Annotated[_Id, IntegerInput]
OptionalId = Annotated[_Id | None, IntegerInput]


def _cents(value: object) -> object:
    """A money amount (string or number, at most two decimals, >= 0) as integer cents."""
    if value is None:
        return None
    try:
        return parse_money(value, "amount")
    except InvalidInput as exc:
        problem = (exc.errors or {}).get("amount", [exc.message])[0]
        # The error handler wraps this as "The <field> field is invalid: <problem>."
        raise PydanticCustomError(
            "money", problem.removeprefix("The amount ").rstrip(".")
        ) from None


# Integer cents inside; on the wire a string or a number (never true/false).
MoneyInput = Annotated[
    int | None,
    BeforeValidator(_cents),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}],
            "description": 'At most two decimals, >= 0, e.g. 24.50 or "24.50".',
        }
    ),
]


class _Request(ApiModel):
    # Only the camelCase names of the contract; a snake_case name is an unknown field.
    model_config = ConfigDict(validate_by_name=False)


class CartItemInput(_Request):
    """One line of POST /cart/{cartId}: tickets of a price, or a donation.

    A donation is `{"priceId": "donation", "rankId": 0, "amount": ...}`.
    """

    price_id: Annotated[str, Field(strict=True, min_length=1, max_length=32)]
    rank_id: Annotated[int, Field(strict=True, ge=0, le=MAX_ID), IntegerInput]
    event_id: OptionalId = None
    number_of_tickets: Annotated[
        int,
        Field(strict=True, ge=1, le=MAX_TICKETS_PER_ITEM, description="Default 1."),
        IntegerInput,
    ] = 1
    seat_id: OptionalId = Field(
        default=None, description="A hall seat id (from GET /seating) on a reserved event."
    )
    amount: MoneyInput = Field(default=None, description="Donations only.")


class CheckoutInput(_Request):
    """Body of POST /cart/{cartId}/checkout."""

    customer_id: OptionalId = Field(default=None, description="Null or absent: anonymous.")
    payment_method_id: Id
    order_channel: Literal["www", "sp"] = "www"
    donation: MoneyInput = None
    paid: Annotated[StrictBool, BooleanInput] = Field(
        default=False, description="True: orderPaymentStatus `paid`."
    )
