"""Absolute URLs of the public API for the client of a request (behind a proxy too)."""

from fastapi import Request

from boxoffice.server.tenancy.service import Tenant


def origin(request: Request) -> str:
    """`https://host`: the request's own scheme and host (a trusted proxy's
    X-Forwarded-Proto and Host are applied by the server, docs/operations.md)."""
    return str(request.base_url).rstrip("/")


def public_base(request: Request, tenant: Tenant) -> str:
    """`https://host/v1/<client>`, the public API of the request's client."""
    return f"{origin(request)}/v1/{tenant.name}"


def absolute_url(base: str, url: str | None) -> str | None:
    """A catalog URL as the API and the shop answer it: a root-relative path (`/media/...`,
    served by this app) made absolute with `base` (`origin()`); any other as given."""
    if url is None or not url.startswith("/"):
        return url
    return base + url
