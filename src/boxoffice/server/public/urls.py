"""Absolute URLs of the public API for the client of a request (behind a proxy too)."""

from fastapi import Request

from boxoffice.server.tenancy.service import Tenant


def public_base(request: Request, tenant: Tenant) -> str:
    """`https://host/v1/<client>`: the request's own scheme and host (a trusted proxy's
    X-Forwarded-Proto and Host are applied by the server, docs/operations.md)."""
    return f"{str(request.base_url).rstrip('/')}/v1/{tenant.name}"
