"""Request parsing and response schemas of the customer endpoints (camelCase on the wire).

Text input is cleaned the same way everywhere: surrounding whitespace is trimmed, an empty
string means null, control characters within the text are refused, and lengths are checked
after trimming.
"""

import re
from typing import Annotated, Any

from fastapi import Path
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.alias_generators import to_snake
from pydantic_core import PydanticCustomError

from boxoffice.server.customers.resources import USER
from boxoffice.server.errors import InvalidInput
from boxoffice.server.schemas import ApiModel
from boxoffice.server.values.money import parse_money

MAX_ID = 2**31 - 1

# Deliberately simple: one @, no whitespace, a dotted domain. Deliverability is the
# client's business; this only keeps obvious garbage out of a unique key.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

CustomerId = Annotated[int, Path(alias="customerId", gt=0, le=MAX_ID)]


def clean_text(value: object) -> object:
    """Trim a string; empty means null. Other types pass through for the type check."""
    if isinstance(value, str):
        value = value.strip()
        if _CONTROL.search(value):
            # PostgreSQL refuses NUL in text; no field here is multi-line either.
            raise PydanticCustomError("control_character", "must not contain control characters")
        return value or None
    return value


def _required_text(value: object) -> object:
    value = clean_text(value)
    if value is None:
        raise PydanticCustomError("empty", "must not be empty or null")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise PydanticCustomError("email", "must be a valid email address")
    return value


def _digits(value: str) -> str:
    if not value.isascii() or not value.isdigit():
        raise PydanticCustomError("digits", "must contain digits only")
    return value


def _credit(value: object) -> int:
    if value is None:
        raise PydanticCustomError("empty", "must not be null")
    try:
        return parse_money(value, "customerCredit")
    except InvalidInput as exc:
        problem = (exc.errors or {}).get("customerCredit", [exc.message])[0]
        # The error handler wraps this as "The customerCredit field is invalid: <problem>."
        problem = problem.removeprefix("The customerCredit ").rstrip(".")
        raise PydanticCustomError("money", problem) from None


_Email = Annotated[str, StringConstraints(max_length=255), AfterValidator(_email)]
_Text255 = Annotated[str, StringConstraints(max_length=255)]
_Phone = Annotated[str, StringConstraints(max_length=40), AfterValidator(_digits)]

# Required and never null: email, customerLastName.
Email = Annotated[_Email, BeforeValidator(_required_text)]
RequiredName = Annotated[_Text255, BeforeValidator(_required_text)]
# In an update "absent" is None by default; an explicit null or "" is refused.
EmailChange = Annotated[_Email | None, BeforeValidator(_required_text)]
RequiredNameChange = Annotated[_Text255 | None, BeforeValidator(_required_text)]
# Optional: null or "" clears.
OptionalText = Annotated[_Text255 | None, BeforeValidator(clean_text)]
Salutation = Annotated[
    Annotated[str, StringConstraints(max_length=1)] | None, BeforeValidator(clean_text)
]
HouseNr = Annotated[
    Annotated[str, StringConstraints(max_length=20)] | None, BeforeValidator(clean_text)
]
Zip = Annotated[
    Annotated[str, StringConstraints(max_length=10)] | None, BeforeValidator(clean_text)
]
Phone = Annotated[_Phone | None, BeforeValidator(clean_text)]
# Parsed to integer cents (never null); documented as what the client may send.
_CREDIT_SCHEMA = WithJsonSchema(
    {
        "anyOf": [{"type": "string"}, {"type": "number"}],
        "description": 'At most two decimals, >= 0, e.g. 24.50 or "24.50".',
    }
)
Credit = Annotated[int, BeforeValidator(_credit), _CREDIT_SCHEMA]
CreditChange = Annotated[int | None, BeforeValidator(_credit), _CREDIT_SCHEMA]

# API field (snake_case attribute) -> `customers` column: the writable fields of USER.
COLUMNS = {to_snake(f.key): f.column for f in USER.fields if f.writable and f.column}


class _Request(ApiModel):
    # Only the camelCase names of the contract; a snake_case name is an unknown field.
    model_config = ConfigDict(validate_by_name=False)


class _CustomerFields(_Request):
    """The writable fields of a customer, in contract order, each optional (as PUT takes
    them); POST requires some (CustomerCreate redeclares those, in place)."""

    email: EmailChange = None
    customer_first_name: OptionalText = None
    customer_last_name: RequiredNameChange = None
    customer_salutation: Salutation = None
    customer_preposition: OptionalText = None
    customer_address: OptionalText = None
    customer_house_nr: HouseNr = None
    customer_zip: Zip = None
    customer_city: OptionalText = None
    customer_country: OptionalText = None
    customer_phone: Phone = None
    customer_credit: CreditChange = None


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
