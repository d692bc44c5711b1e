"""Request parsing and response schemas of the waiting-list endpoints (camelCase on the wire)."""

from typing import Annotated, Literal

from fastapi import Path
from pydantic import ConfigDict, Field

from boxoffice.server.customers.schemas import MAX_ID
from boxoffice.server.lenient import IntegerInput
from boxoffice.server.schemas import ApiModel

WaitingId = Annotated[int, Path(alias="waitingId", gt=0, le=MAX_ID)]
WaitingType = Literal["waiting", "notified", "converted", "cancelled", "expired"]

# Also as numeric strings, "" as null (docs/input.md).
Id = Annotated[Annotated[int, Field(strict=True, gt=0, le=MAX_ID)], IntegerInput]
_NumberOfTickets = Annotated[int, Field(strict=True, ge=1, le=20)]
NumberOfTickets = Annotated[_NumberOfTickets, IntegerInput]


class _Request(ApiModel):
    # Only the camelCase names of the contract; a snake_case name is an unknown field.
    model_config = ConfigDict(validate_by_name=False)


class WaitingCreate(_Request):
    """Body of POST /waitinglist."""

    customer_id: Id
    event_id: Id
    number_of_tickets: NumberOfTickets


class WaitingUpdate(_Request):
    """Body of PUT /waitinglist/{waitingId}: a new `type`, and/or (extension) a new
    `numberOfTickets` while the entry is waiting or notified."""

    type: WaitingType | None = None
    number_of_tickets: Annotated[_NumberOfTickets | None, IntegerInput] = None
