"""Request and response schemas of the public cart, order, tickets and payment routes.

Fields are spelled as the public API spells them (snake_case, `redirectURL`). Integers may
come as numeric strings, the way PHP and WordPress clients send them.
"""

import re
from typing import Annotated
from urllib.parse import urlsplit

import orjson
from pydantic import BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from boxoffice.server.carts.schemas import MAX_TICKETS_PER_ITEM
from boxoffice.server.customers.inputs import Email, OptionalText, RequiredName, Zip
from boxoffice.server.customers.inputs import Phone as _Phone
from boxoffice.server.lenient import IntegerInput
from boxoffice.server.public.schemas import MoneyText, PublicModel

MAX_ID = 2_147_483_647
_SEPARATORS = re.compile(r"[\s\-./()]")


PublicId = Annotated[int, Field(strict=True, gt=0, le=MAX_ID), IntegerInput]
TicketCount = Annotated[int, Field(strict=True, ge=1, le=MAX_TICKETS_PER_ITEM), IntegerInput]


def _flag(value: object) -> bool:
    """A consent flag as forms and PHP send it: true/false, 1/0, "1"/"0", "on", "", null."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("", "0", "1", "true", "false", "on"):
        return value.strip().lower() in ("1", "true", "on")
    raise PydanticCustomError("flag", "must be true or false (1 or 0)")


Flag = Annotated[
    bool,
    BeforeValidator(_flag),
    WithJsonSchema({"anyOf": [{"type": "boolean"}, {"type": "integer"}, {"type": "string"}]}),
]


def _phone(value: object) -> object:
    """Digits only in storage; spaces, dashes, dots and brackets a buyer types are dropped
    and a leading + becomes 00."""
    if isinstance(value, str):
        text = _SEPARATORS.sub("", value.strip())
        return "00" + text[1:] if text.startswith("+") else text
    return value


Phone = Annotated[_Phone, BeforeValidator(_phone)]


def _redirect_url(value: object) -> object:
    if isinstance(value, str):
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise PydanticCustomError("url", "must be an absolute http or https URL")
        return value.strip()
    return value


RedirectUrl = Annotated[str, BeforeValidator(_redirect_url), Field(max_length=1000)]
DiscountId = Annotated[str, Field(min_length=1, max_length=32)]


class _Input(PublicModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CartLineInput(_Input):
    """Body of POST /cart/{cart_id}."""

    event_id: PublicId
    numberoftickets: TicketCount = 1
    discount_id: DiscountId | None = Field(
        default=None, description="Optional when the event has exactly one ticket type."
    )


class OrderCreateInput(_Input):
    """Body of POST /order/create."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)

    cart_id: Annotated[str, Field(min_length=1, max_length=64)]
    payment_id: PublicId
    redirect_url: RedirectUrl = Field(alias="redirectURL")
    email: Email
    firstname: OptionalText = None
    lastname: RequiredName
    phone: Phone | None = None
    address: OptionalText = None
    city: OptionalText = None
    zip: Zip = None
    avg_optin: Flag = False
    avg_mailinglist: Flag = False


class CartCreated(PublicModel):
    cart_id: str


class CartTicketResource(PublicModel):
    """One ticket of the cart array; the array ends with {"totalprice": "..."}."""

    seat_id: str
    seat_row_nr: int | None
    seat_nr: int | None
    pmp_name: str | None
    event_id: int
    event_name: str | None
    location_name: str | None
    event_date: str = Field(description="DD-MM-YYYY in the client's time zone.")
    event_time: str = Field(description="HH:MM in the client's time zone.")
    numberoftickets: int
    seat_price: MoneyText
    category_name: str | None
    discount_id: str
    discount_name: str | None


class CartTotal(PublicModel):
    totalprice: MoneyText


class EmptyCart(PublicModel):
    cart: int


CartArray = list[CartTicketResource | CartTotal | EmptyCart]


class OrderCreated(PublicModel):
    url: str
    order_key: str


class OrderSeatResource(PublicModel):
    seat_id: str
    event_name: str
    event_type: list[str]


class PublicOrderResource(PublicModel):
    order_payment_status: str = Field(description="none, paid, partial or refund.")
    order_tickets_nr: int
    order_tickets_url: str
    order_receipt_url: str
    seats: list[OrderSeatResource]


def form_fields(body: bytes) -> dict[str, str]:
    """The text fields of a submitted form, which the lenient route hands on as a JSON
    object (anything else: no fields)."""
    try:
        values = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(values, dict):
        return {}
    return {str(k): v for k, v in values.items() if isinstance(v, str)}
