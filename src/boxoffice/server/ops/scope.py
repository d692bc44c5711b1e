"""What the operations middleware read from an ASGI scope: headers, address, tenant, key."""

from starlette.types import Scope

from boxoffice.server.tenancy.auth import presented_key
from boxoffice.server.tenancy.keys import key_prefix
from boxoffice.server.tenancy.service import Tenant

# Every authenticated API path starts so (the full pattern lives in tenancy/auth.py).
API_PATH_START = "/v1/"


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header; `name` in lower case, as ASGI gives them."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def client_address(scope: Scope) -> str:
    """The peer's address, or the forwarded one when uvicorn trusts the proxy in front."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def authenticated_tenant(scope: Scope) -> Tenant | None:
    """The client that AuthenticationMiddleware resolved for this request, if any."""
    tenant = scope.get("state", {}).get("tenant")
    return tenant if isinstance(tenant, Tenant) else None


def authenticated_key_prefix(scope: Scope) -> str | None:
    """The public prefix of the key that authenticated this request; never the key itself."""
    if authenticated_tenant(scope) is None:
        return None
    key = presented_key(header(scope, b"authorization"))
    return key_prefix(key) if key else None
