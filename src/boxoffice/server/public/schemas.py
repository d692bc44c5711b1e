"""Public resource schemas, for the OpenAPI document (responses are built by resources.py).

Unlike the Peppered API's, these fields are snake_case, as the public API spells them.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MoneyText = Annotated[str, Field(description="Two decimals as a string, e.g. 24.50.")]


class PublicModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubEventResource(PublicModel):
    event_id: int
    event_main_id: int
    event_name: str
    event_text: str | None
    event_short_text: str | None
    event_url: str | None
    event_image: str | None
    event_type: list[str]
    event_date: str = Field(description="YYYY-MM-DD in the client's time zone.")
    event_time: str = Field(description="HH:MM:SS in the client's time zone.")
    event_end: str = Field(description="HH:MM:SS in the client's time zone.")
    event_view_end: str = Field(
        description="YYYY-MM-DD HH:MM:SS in the client's time zone; 0000-00-00 00:00:00 if unset."
    )
    event_rep: str
    event_status: str = Field(description="pub, nosal, arch (ended) or trash.")
    event_free: int = Field(description="How many tickets one order may take now.")
    location_id: int
    location_name: str | None


class MainEventResource(PublicModel):
    event_id: int
    event_name: str
    event_text: str | None
    event_short_text: str | None
    event_image: str | None
    event_type: list[str]
    sub_events: list[SubEventResource]


class TicketTypeResource(PublicModel):
    discount_id: str
    discount_name: str
    base_price: MoneyText
    discount_type: str
    discount_value: MoneyText
    discounted_price: MoneyText


class LocationResource(PublicModel):
    location_id: int
    location_name: str
    location_address: str | None
    location_zip: str | None
    location_city: str | None
    location_country: str | None
    location_phone: str | None
    location_url: str | None


class EventTypeResource(PublicModel):
    eventtype_name: str


class PaymentMethodResource(PublicModel):
    payment_id: int
    payment_desc: str
    payment_cost: MoneyText


class PublicError(PublicModel):
    message: str
