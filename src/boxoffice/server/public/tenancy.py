"""The client of a public request, named by its path; no key, and an unknown name is a 404."""

from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy import Engine

from boxoffice.server.db.transactions import read_transaction
from boxoffice.server.errors import NotFound
from boxoffice.server.public.errors import UNKNOWN, PublicNotFound
from boxoffice.server.tenancy.service import CLIENT_NAME, Tenant, get_tenant


def public_tenant(request: Request, client_name: Annotated[str, Path()]) -> Tenant:
    """FastAPI dependency: the client named in the path, or the same 404 as an unknown path."""
    if not CLIENT_NAME.match(client_name):
        raise PublicNotFound(UNKNOWN)
    engine: Engine = request.app.state.engine
    with read_transaction(engine) as conn:
        try:
            return get_tenant(conn, client_name)
        except NotFound:
            raise PublicNotFound(UNKNOWN) from None


PublicTenant = Annotated[Tenant, Depends(public_tenant)]
