"""The public API's 404: its message is the contract's, word for word."""

from boxoffice.server.errors import AppError


class PublicNotFound(AppError):
    """A 404 whose message the contract fixes (`Event not found`, `sub_event not found`)."""

    status_code = 404
    code = "not_found"


UNKNOWN = "Not found."
# The contract's messages: the service raises them, the routes document them.
EVENT_NOT_FOUND = "Event not found"
SUB_EVENT_NOT_FOUND = "sub_event not found"
LOCATION_NOT_FOUND = "Location not found"
