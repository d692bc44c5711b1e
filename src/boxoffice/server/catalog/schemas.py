"""Catalog resource schemas, for the OpenAPI document (responses are built by resources.py)."""

from datetime import datetime
from typing import Annotated

from pydantic import Field

from boxoffice.server.schemas import ApiModel

Money = Annotated[float, Field(description="A JSON number with two decimals, e.g. 24.50.")]


class PriceResource(ApiModel):
    price_id: str
    price_name: str
    rank_id: int
    amount: Money


class EventResource(ApiModel):
    event_id: int
    production_id: int
    event_name: str
    event_type: str | None
    event_tags: list[str] | None
    start: datetime
    end: datetime
    hall_id: int
    prices: list[PriceResource]


class RankAvailability(ApiModel):
    rank_id: int
    available: int


class BlockAvailability(ApiModel):
    block_type: str
    block_name: str = Field(description="The Dutch name of the block type, e.g. Rolstoel.")
    count: int = Field(description="Places of the event held back from sale.")


class EventDetailResource(EventResource):
    availability: list[RankAvailability]
    block_availability: list[BlockAvailability]


class ProductionResource(ApiModel):
    production_id: int
    production_name: str
    events: list[EventResource]


class PriceLevel(ApiModel):
    price_id: str
    rank_id: int
    name: str
    amount: Money


class PlanSeat(ApiModel):
    seat_id: int = Field(description="The hall seat's id: pass it as `seatId` to a cart.")
    seat_nr: int
    rank_id: int
    available: bool


class PlanRow(ApiModel):
    row_nr: int
    seats: list[PlanSeat]


class PlanSection(ApiModel):
    section_id: int
    section_name: str | None
    rows: list[PlanRow]


class SeatPlanResource(ApiModel):
    event_id: int
    hall_id: int
    price_levels: list[PriceLevel]
    sections: list[PlanSection] = Field(description="Empty for an unreserved event.")
    available: int


class PaymentMethodResource(ApiModel):
    payment_method_id: int
    name: str
    fee: Money
