"""Who is calling: the peer's address, and once a key is verified, its client and key prefix.

The principal is put in the ASGI scope once per request and read by authentication (the
route's CurrentTenant), the rate limits and the access log, so none of them parses the
Authorization header or the address again.
"""

from dataclasses import dataclass, replace

from starlette.types import Scope

from boxoffice.server.tenancy.service import Tenant, VerifiedKey


@dataclass(frozen=True, slots=True)
class Principal:
    """The anonymous peer (`tenant` None) or the client whose key authenticated the request."""

    address: str
    tenant: Tenant | None = None
    # The public prefix of the verified key; never the key itself.
    key_prefix: str | None = None
    # The verified key's own rate limit (requests a minute, 0: none); None: the default.
    key_per_minute: int | None = None


def principal_of(scope: Scope) -> Principal:
    """The request's principal: anonymous, from the peer's address, until a key is verified.

    The address is the peer's, or the forwarded one when uvicorn trusts the proxy in front.
    """
    state = scope.setdefault("state", {})
    principal = state.get("principal")
    if isinstance(principal, Principal):
        return principal
    client = scope.get("client")
    principal = Principal(address=str(client[0]) if client else "unknown")
    state["principal"] = principal
    return principal


def authenticate_principal(scope: Scope, key: VerifiedKey) -> None:
    """Record that this request's key is verified: it belongs to `key.tenant`."""
    authenticated = replace(
        principal_of(scope),
        tenant=key.tenant,
        key_prefix=key.prefix,
        key_per_minute=key.per_minute,
    )
    scope["state"]["principal"] = authenticated
