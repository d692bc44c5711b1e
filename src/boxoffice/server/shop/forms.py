"""The shop's forms: reading what was posted, and saying what was wrong in the page's language."""

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from boxoffice.server.carts.service import CartExpired
from boxoffice.server.errors import AppError, InvalidInput
from boxoffice.server.shop.pages import Visit
from boxoffice.server.tickets.i18n import N_

MAX_ID = 2_147_483_647
# The checkout form's fields, as POST /order/create names them.
BUYER_FIELDS = (
    "email",
    "firstname",
    "lastname",
    "phone",
    "address",
    "zip",
    "city",
    "payment_id",
    "avg_mailinglist",
)
# What a buyer is told about a field of the checkout form that was refused.
_FIELD_PROBLEMS = {
    "email": N_("Enter a valid email address, like name@example.org."),
    "lastname": N_("Enter your last name."),
    "firstname": N_("Your first name is too long."),
    "phone": N_("Enter a phone number of digits only (spaces and dashes are fine)."),
    "address": N_("Your address is too long."),
    "zip": N_("Enter a valid postcode."),
    "city": N_("Your city is too long."),
    "payment_id": N_("Choose a payment method."),
    "avg_mailinglist": N_("Tick the box or leave it empty."),
}


def _id(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID else None


def seat_ids_of(form: Mapping[str, Any]) -> list[int]:
    """The chosen seats (`seat`, repeated); a value that is no seat id is a 422."""
    ids = [_id(str(v)) for v in form.get("seat", [])]
    if any(i is None for i in ids):
        raise InvalidInput.field("seat", "A chosen seat is not a seat of this hall.")
    return [i for i in ids if i is not None]


def prices_of(form: Mapping[str, Any]) -> dict[int, str]:
    """The ticket type chosen for each rank's seats: `price-<rank id>`."""
    chosen: dict[int, str] = {}
    for name, value in form.items():
        rank = _id(name.removeprefix("price-")) if name.startswith("price-") else None
        if rank is not None and isinstance(value, str) and value:
            chosen[rank] = value
    return chosen


def counts_of(form: Mapping[str, Any]) -> dict[str, int]:
    """How many tickets of each ticket type: `qty-<ticket type>`, a whole number 0..20."""
    counts: dict[str, int] = {}
    for name, value in form.items():
        if not name.startswith("qty-"):
            continue
        text = str(value).strip() or "0"
        if not text.isascii() or not text.isdigit() or int(text) > 20:
            raise InvalidInput.field(
                "quantity", "A number of tickets is not a number from 0 to 20."
            )
        counts[name.removeprefix("qty-")] = int(text)
    return counts


def buyer_fields(form: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(form[name]) for name in BUYER_FIELDS if name in form}


def checkout_errors(visit: Visit, exc: ValidationError) -> dict[str, str]:
    """The refused fields of the checkout form, each with what to do about it."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        if name in _FIELD_PROBLEMS and name not in errors:
            errors[name] = visit.gettext(_FIELD_PROBLEMS[name])
    return errors


def problem_text(visit: Visit, exc: AppError) -> str:
    """Why a form of the event or checkout page did nothing, for the buyer."""
    if isinstance(exc, CartExpired):
        return visit.gettext("Your cart expired and its places were released. You can start again.")
    if isinstance(exc, InvalidInput):
        field = next(iter(exc.errors or {}), "")
        if field == "numberoftickets":
            return visit.gettext("That is more tickets than one order can take for this event.")
        if field == "seat":
            return visit.gettext("Choose at least one free seat on the map.")
        if field == "quantity":
            return visit.gettext("Choose how many tickets you want (a number from 1 to 20).")
        return visit.gettext("Something you sent could not be used. Please try again.")
    if exc.status_code == 409:
        return visit.gettext(
            "Sorry, some of those places were just taken by someone else, or are no longer "
            "on sale. The map below is up to date: please choose again."
        )
    return visit.gettext("Something you sent could not be used. Please try again.")
