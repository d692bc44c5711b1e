"""How request bodies take a customer's fields: each field's input type, cleaned and checked.

Text input is cleaned the same way everywhere: surrounding whitespace is trimmed, an empty
string means null, control characters within the text are refused, and lengths are checked
after trimming. The field table (`resources.USER`) names each writable field's type; the
public API's order bodies use the same types for the buyer's details.
"""

import re
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BeforeValidator,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from boxoffice.server.errors import InvalidInput
from boxoffice.server.values.money import parse_money

# Deliberately simple: one @, no whitespace, a dotted domain. Deliverability is the
# client's business; this only keeps obvious garbage out of a unique key.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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


def max_length(input_type: Any) -> int:
    """The longest text an input type takes (its StringConstraints' max_length): the length
    of the column that keeps the field, so that nothing valid is too long to store."""
    origin = get_origin(input_type)
    if origin is Annotated:
        base, *metadata = get_args(input_type)
        for item in metadata:
            if isinstance(item, StringConstraints) and item.max_length is not None:
                return item.max_length
        return max_length(base)
    if origin is Union or origin is UnionType:
        lengths = [max_length(a) for a in get_args(input_type) if a is not type(None)]
        if len(lengths) == 1:
            return lengths[0]
    raise TypeError(f"{input_type!r} sets no single max_length")
