"""What the operations middleware read from an ASGI scope: the start of API paths, headers."""

from starlette.types import Scope

# Every authenticated API path starts so (the full pattern lives in tenancy/auth.py).
API_PATH_START = "/v1/"


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header; `name` in lower case, as ASGI gives them."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
