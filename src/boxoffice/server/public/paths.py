"""Which request paths are public (keyless, any site's browser may call them, limited per
address): the public API, /v1/{client}/... except the Peppered API, and the ticket host's
API of embedded shops, /api/{client}/... (server/embed/)."""

from boxoffice.server.paths import (
    PEPPERED_PATH,
    PUBLIC_PATH,
    PUBLIC_PREFIX,
    TICKET_HOST_API_PATH,
)

__all__ = ["PUBLIC_PREFIX", "is_public_path"]


def is_public_path(path: str) -> bool:
    if TICKET_HOST_API_PATH.match(path) is not None:
        return True
    return PUBLIC_PATH.match(path) is not None and PEPPERED_PATH.match(path) is None
