"""Money as integer cents: parsing amounts from input and their two-decimal text."""

import re
from decimal import Decimal, InvalidOperation

from boxoffice.server.errors import InvalidInput


def money_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def parse_money(value: object, field: str, *, minimum: int | None = 0) -> int:
    """A string or number with at most two decimals, as integer cents."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise InvalidInput.field(field, f"The {field} must be a number or a numeric string.")
    text = (
        value.strip()
        if isinstance(value, str)
        else repr(value)
        if isinstance(value, float)
        else str(value)
    )
    if isinstance(value, str) and not re.fullmatch(r"-?\d{1,9}(?:\.\d{1,2})?", text):
        raise InvalidInput.field(field, f"The {field} must be an amount with at most two decimals.")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidInput.field(field, f"The {field} must be a number.") from None
    # Checked before quantize(), which raises InvalidOperation beyond 28 significant digits.
    if amount.is_finite() and abs(amount) >= 10**9:
        raise InvalidInput.field(field, f"The {field} is too large.")
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput.field(field, f"The {field} must have at most two decimals.")
    cents = int(amount * 100)
    if minimum is not None and cents < minimum:
        raise InvalidInput.field(field, f"The {field} must be at least {money_text(minimum)}.")
    if abs(cents) >= 10**11:
        raise InvalidInput.field(field, f"The {field} is too large.")
    return cents
