"""Authentication: every request under /v1/{client}/peppered/ is checked before routing.

It runs as ASGI middleware, ahead of body parsing and routing, so that every failure (no
key, bad key, revoked key, another client's key, unknown client, unknown path) gets the
same 401 and the answer never reveals whether a client or a route exists.
"""

import base64
import binascii
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from sqlalchemy import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from boxoffice.server.db.transactions import single_read
from boxoffice.server.errors import Unauthenticated
from boxoffice.server.paths import PEPPERED_PATH
from boxoffice.server.responses import error_response
from boxoffice.server.tenancy import repository
from boxoffice.server.tenancy.keys import key_prefix, verify_key
from boxoffice.server.tenancy.principal import authenticate_principal, principal_of
from boxoffice.server.tenancy.service import CLIENT_NAME, Tenant, VerifiedKey
from boxoffice.server.threadpool import run_in_thread


def presented_key(authorization: str | None) -> str | None:
    """The key from `Authorization`: raw, `Bearer <key>`, or Basic with the key as user name."""
    if not authorization:
        return None
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            # ValueError: non-ASCII characters in the base64 text (UnicodeDecodeError is one).
            return None
        user, _, _password = decoded.partition(":")
        return user or None
    return authorization.strip() if not rest else None


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def authenticate(engine: Engine, client_name: str, authorization: str | None) -> VerifiedKey:
    """The key `authorization` presents: its client, public prefix and rate limit."""
    key = presented_key(authorization)
    prefix = key_prefix(key) if key else None
    if key is None or prefix is None or not CLIENT_NAME.match(client_name):
        raise Unauthenticated()
    # One statement, no transaction around it: the key is looked up afresh on every request
    # (a revoked key fails on the very next one) at the cost of a single round trip.
    with single_read(engine) as conn:
        found = repository.get_active_key_hash(conn, client_name=client_name, prefix=prefix)
    if found is None or not verify_key(key, found.key_hash):
        raise Unauthenticated()
    tenant = Tenant(id=found.tenant_id, name=client_name, timezone=_zone(found.timezone))
    return VerifiedKey(tenant, prefix, found.per_minute)


class AuthenticationMiddleware:
    """Resolves the tenant of every API request, or answers 401 itself."""

    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            match = PEPPERED_PATH.match(scope["path"])
            if match is not None:
                authorization = None
                for name, value in scope["headers"]:
                    if name == b"authorization":
                        authorization = value.decode("latin-1")
                        break
                try:
                    verified = await run_in_thread(
                        authenticate, self.engine, match.group(1), authorization
                    )
                except Unauthenticated as exc:
                    await error_response(exc)(scope, receive, send)
                    return
                authenticate_principal(scope, verified)
        await self.app(scope, receive, send)


async def current_tenant(request: Request) -> Tenant:
    """FastAPI dependency: the client the middleware authenticated for this request (async:
    it only reads the scope, so it runs in the event loop instead of a thread-pool hop)."""
    tenant = principal_of(request.scope).tenant
    if tenant is None:
        raise Unauthenticated()
    return tenant


CurrentTenant = Annotated[Tenant, Depends(current_tenant)]
