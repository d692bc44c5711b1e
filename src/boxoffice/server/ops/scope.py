"""What the operations middleware read from an ASGI scope: its headers."""

from starlette.types import Scope


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header; `name` in lower case, as ASGI gives them."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
