"""Per-address request limits on the public API, counted in the database so that every
worker (and every server on one database) shares them.

A fixed window per address: one atomic upsert per request (`repository.hit_window`). When
an address opens a new window, rows of windows that have ended are deleted, so the table
holds about one row per address active in the current window.
"""

import logging
import math
import time

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from boxoffice.server.ops.ratelimit import Allowance, refuse, sending_headers
from boxoffice.server.public import repository
from boxoffice.server.public.paths import is_public_path
from boxoffice.server.tenancy.principal import principal_of

log = logging.getLogger("boxoffice.public")

# The column's width; longer addresses (never seen in practice) are cut, not refused.
_ADDRESS_LENGTH = 64


def spend(
    engine: Engine, *, address: str, limit: int, window_seconds: int, now: float
) -> Allowance:
    """Count one request of `address`; whether it is within the limit of its window."""
    window_start = int(now // window_seconds) * window_seconds
    with engine.connect() as raw:
        # On SQLite, BEGIN IMMEDIATE: the write lock is taken at once, never upgraded.
        conn = raw.execution_options(write=True)
        with conn.begin():
            hits = repository.hit_window(
                conn, address=address[:_ADDRESS_LENGTH], window_start=window_start
            )
            if hits == 1:
                repository.delete_windows_before(conn, window_start=window_start)
    reset = max(1, math.ceil(window_start + window_seconds - now))
    return Allowance(hits <= limit, limit, max(0, limit - hits), reset)


class PublicRateLimitMiddleware:
    """Answers 429 with Retry-After when an address is over its budget on the public API."""

    def __init__(self, app: ASGIApp, engine: Engine, limit: int, window_seconds: int) -> None:
        self.app = app
        self.engine = engine
        self.limit = limit
        self.window_seconds = window_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_public_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            allowance = await run_in_threadpool(
                spend,
                self.engine,
                address=principal_of(scope).address,
                limit=self.limit,
                window_seconds=self.window_seconds,
                now=time.time(),
            )
        except SQLAlchemyError:
            # The counter is protection, not the service: when the database cannot count,
            # the request goes on and meets the same database in its route.
            log.warning("public rate limit not counted: the database refused the update")
            await self.app(scope, receive, send)
            return
        if not allowance.allowed:
            await refuse(scope, receive, send, allowance, "public")
            return
        await self.app(scope, receive, sending_headers(send, allowance))
