"""Abuse protection: a request budget per API key, a failed-authentication budget per address.

Both are counted in the memory of the worker process (the `limits` library's in-memory
storage): a shared store would cost a database write per request, and on SQLite every such
write would queue behind the database's single write lock. With N workers a client can get
up to N times a budget; docs/operations.md says how to size the limits for that.
"""

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.server.errors import TooManyRequests
from boxoffice.server.ops.metrics import record_rate_limited
from boxoffice.server.paths import API_ROOT
from boxoffice.server.responses import error_response
from boxoffice.server.tenancy.principal import principal_of


@dataclass(frozen=True, slots=True)
class Allowance:
    """One look at a budget: whether the request may go on, and the RateLimit-* headers."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


class Budget:
    """At most `amount` events in any `period_seconds` for each identity, in this process.

    A moving window: each event is remembered (about 200 bytes) until it is `period_seconds`
    old, so there is no burst at window edges and the answers do not depend on when a minute
    starts. Memory is bounded by identities x amount; idle identities expire by themselves.
    """

    def __init__(self, amount: int, *, period_seconds: int = 60) -> None:
        self.item = RateLimitItemPerSecond(amount, period_seconds)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, identity: str) -> Allowance:
        """Spend one unit if there is one left."""
        return self._allowance(identity, self.limiter.hit(self.item, identity))

    def check(self, identity: str) -> Allowance:
        """Whether one unit is left, spending nothing."""
        return self._allowance(identity, self.limiter.test(self.item, identity))

    def _allowance(self, identity: str, allowed: bool) -> Allowance:
        stats = self.limiter.get_window_stats(self.item, identity)
        # Seconds until the budget grows again; at least 1, so Retry-After never says "now".
        reset = max(1, math.ceil(stats.reset_time - time.time()))
        return Allowance(allowed, self.item.amount, max(0, stats.remaining), reset)


async def refuse(
    scope: Scope, receive: Receive, send: Send, allowance: Allowance, limit: str
) -> None:
    """Answer 429 with the allowance's headers, and count it under `limit`."""
    record_rate_limited(limit)
    await error_response(TooManyRequests(allowance.headers()))(scope, receive, send)


def sending_headers(send: Send, allowance: Allowance) -> Send:
    """`send`, adding the allowance's RateLimit-* headers to the response."""
    extra = [(k.lower().encode(), v.encode()) for k, v in allowance.headers().items()]

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    return send_with_headers


class FailedAuthenticationMiddleware:
    """Counts every 401 per client address; an address whose failures are over the budget
    gets 429 on the API before its key is even looked at, so a correct key waits too.

    It sits outside AuthenticationMiddleware: a 401 on an API path is how that middleware
    reports a failure, whatever the reason (no key, bad key, unknown client).
    """

    def __init__(self, app: ASGIApp, budget: Budget) -> None:
        self.app = app
        self.budget = budget

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_ROOT):
            await self.app(scope, receive, send)
            return
        address = principal_of(scope).address
        allowance = self.budget.check(address)
        if not allowance.allowed:
            await refuse(scope, receive, send, allowance, "authentication")
            return

        async def send_counting_failures(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.budget.hit(address)
            await send(message)

        await self.app(scope, receive, send_counting_failures)


class KeyRateLimitMiddleware:
    """Spends one unit of the key's budget per authenticated request, before the route runs.

    It sits directly inside AuthenticationMiddleware, so only requests with a valid key count
    and nobody can spend another client's budget by sending its key prefix.
    """

    def __init__(self, app: ASGIApp, budget: Budget) -> None:
        self.app = app
        self.budget = budget

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = principal_of(scope) if scope["type"] == "http" else None
        if principal is None or principal.tenant is None or principal.key_prefix is None:
            await self.app(scope, receive, send)
            return
        allowance = self.budget.hit(f"{principal.tenant.id}:{principal.key_prefix}")
        if not allowance.allowed:
            await refuse(scope, receive, send, allowance, "key")
            return
        await self.app(scope, receive, sending_headers(send, allowance))
