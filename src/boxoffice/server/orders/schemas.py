"""Request parsing and response schemas of the order endpoints (camelCase on the wire)."""

from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import Path
from pydantic import BeforeValidator, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError

from boxoffice.server.customers.inputs import clean_text
from boxoffice.server.customers.schemas import MAX_ID
from boxoffice.server.schemas import ApiModel
from boxoffice.server.values.instants import parse_instant_input

OrderId = Annotated[int, Path(alias="orderId", gt=0, le=MAX_ID)]
SeatId = Annotated[int, Path(alias="seatId", gt=0, le=MAX_ID)]

# The same values as ORDER_STATUSES / PAYMENT_STATUSES in orders/tables.py (a test checks).
OrderStatus = Literal["ord", "cancel", "reemit", "reissue", "res", "pros", "trash"]
PaymentStatus = Literal["none", "paid", "partial", "refund"]


def _not_null(value: object) -> object:
    if value is None:
        raise PydanticCustomError("empty", "must not be null")
    return value


class OrderUpdate(ApiModel):
    """Body of PUT /order/{orderId}: only the fields present are changed."""

    # Only the camelCase names of the contract; a snake_case name is an unknown field.
    model_config = ConfigDict(validate_by_name=False)

    order_status: Annotated[OrderStatus | None, BeforeValidator(_not_null)] = None
    order_payment_status: Annotated[PaymentStatus | None, BeforeValidator(_not_null)] = None
    # Null or "" clears the discount.
    discount_name: Annotated[
        Annotated[str, StringConstraints(max_length=255)] | None, BeforeValidator(clean_text)
    ] = None

    def columns(self) -> dict[str, Any]:
        names = {
            "order_status": "status",
            "order_payment_status": "payment_status",
            "discount_name": "discount_name",
        }
        return {names[name]: getattr(self, name) for name in self.model_fields_set}


def parse_changed_since(value: str | None, tz: ZoneInfo) -> int | None:
    """`?changedSince=` as UTC microseconds; absent or empty means no lower bound."""
    if not value:
        return None
    return parse_instant_input(value, "changedSince", tz)
