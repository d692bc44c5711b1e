"""Request parsing and response schemas of the customer endpoints (camelCase on the wire).

A writable field's input type (customers/inputs.py) is named in the field table
(`resources.USER`); the request bodies are made from that table.
"""

from typing import Annotated, Any

from fastapi import Path
from pydantic import ConfigDict, WithJsonSchema, create_model
from pydantic.alias_generators import to_snake

from boxoffice.server.customers.inputs import Credit, Email, RequiredName
from boxoffice.server.customers.resources import USER
from boxoffice.server.errors import InvalidInput
from boxoffice.server.schemas import ApiModel

MAX_ID = 2**31 - 1

CustomerId = Annotated[int, Path(alias="customerId", gt=0, le=MAX_ID)]

# API field (snake_case attribute) -> `customers` column: the writable fields of USER.
COLUMNS = {to_snake(f.key): f.column for f in USER.fields if f.writable and f.column}


class _Request(ApiModel):
    # Only the camelCase names of the contract; a snake_case name is an unknown field.
    model_config = ConfigDict(validate_by_name=False)


# The writable fields of a customer, in contract order, each optional (as PUT takes them),
# with the input type the field table gives it; POST requires some (CustomerCreate
# redeclares those, in place).
_WRITABLE: dict[str, Any] = {to_snake(f.key): (f.writable, None) for f in USER.fields if f.writable}
_CustomerFields = create_model("_CustomerFields", __base__=_Request, **_WRITABLE)


class CustomerCreate(_CustomerFields):
    """Body of POST /customer."""

    email: Email
    customer_last_name: RequiredName
    customer_credit: Credit = 0

    def columns(self) -> dict[str, Any]:
        return {column: getattr(self, name) for name, column in COLUMNS.items()}


class CustomerUpdate(_CustomerFields):
    """Body of PUT /customer/{customerId}: only the fields present are changed."""

    def columns(self) -> dict[str, Any]:
        """The columns to set: the fields present in the body (an explicit null clears)."""
        return {COLUMNS[name]: getattr(self, name) for name in self.model_fields_set}


class FindByEmail(_Request):
    """Body of POST /customer/findByEmail."""

    email: Email


TagNames = Annotated[
    list[Any],
    WithJsonSchema({"type": "array", "items": {"type": "string"}}),
]


def parse_tag_names(values: list[Any]) -> list[str]:
    """The body of POST .../clienttypes: tag names, each a string; duplicates collapse."""
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise InvalidInput.field(
                "clientTypes", f"Every client type must be a string; item {index} is not."
            )
    return sorted(set(values))
