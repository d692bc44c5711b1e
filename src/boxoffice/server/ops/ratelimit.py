"""Abuse protection: a request budget per API key, a failed-authentication budget per address.

A key's budget is shared by every worker and server on the database (SharedBudget: leased
in slices, so a request rarely writes); the failed-authentication budget is counted in each
worker's memory (Budget), since a failure must cost no database write at all.
"""

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.server.errors import TooManyRequests
from boxoffice.server.ops.budgets import Allowance, Budget, SharedBudget
from boxoffice.server.ops.metrics import record_rate_limited
from boxoffice.server.paths import API_ROOT
from boxoffice.server.responses import error_response
from boxoffice.server.tenancy.auth import Admit
from boxoffice.server.tenancy.principal import principal_of
from boxoffice.server.threadpool import run_in_thread

log = logging.getLogger("boxoffice.ratelimit")

# Who a request counts against and that identity's limit, or None when it is not limited.
Identify = Callable[[Scope], tuple[str, int] | None]

# While the database refuses leases every request says so; one warning a budget this often.
UNCOUNTED_WARNING_SECONDS = 60.0


class _UncountedWarnings:
    """The warning that requests go on uncounted, at most once every
    UNCOUNTED_WARNING_SECONDS per budget (a database outage must not flood the log), with
    how many requests went uncounted since the last warning."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: dict[str, int] = {}
        self._last: dict[str, float] = {}

    def uncounted(self, budget: str) -> None:
        now = time.monotonic()
        with self._lock:
            count = self._since.get(budget, 0) + 1
            last = self._last.get(budget)
            if last is not None and now - last < UNCOUNTED_WARNING_SECONDS:
                self._since[budget] = count
                return
            self._since[budget], self._last[budget] = 0, now
        log.warning(
            "%s rate limit not counted: the database refused the lease (%d request(s) "
            "uncounted since the last warning)",
            budget,
            count,
        )


_uncounted = _UncountedWarnings()


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
        # Every API request asks; only a refusal needs the window's figures for its headers.
        if not self.budget.allows(address):
            await refuse(scope, receive, send, self.budget.check(address), "authentication")
            return

        async def send_counting_failures(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.budget.hit(address)
            await send(message)

        await self.app(scope, receive, send_counting_failures)


def per_key(default_per_minute: int) -> Identify:
    """A request counts against its verified key, at the key's own limit or the default;
    a limit of 0 is none. Requests without a verified key are not counted."""

    def identify(scope: Scope) -> tuple[str, int] | None:
        principal = principal_of(scope)
        if principal.key_prefix is None:
            return None
        limit = principal.key_per_minute
        limit = default_per_minute if limit is None else limit
        return (principal.key_prefix, limit) if limit > 0 else None

    return identify


def admitting(budget: SharedBudget, identify: Identify) -> Admit:
    """Authentication's last step (in the worker thread that verified the key): spend one
    unit of `budget` for the request that `identify` names; refuse it with a 429 when the
    window is spent, else give the RateLimit-* headers of its answer.

    As SharedLimitMiddleware: when the database cannot lease, the request goes on uncounted.
    """

    def admit(scope: Scope) -> dict[str, str]:
        found = identify(scope)
        if found is None:
            return {}
        identity, limit = found
        try:
            allowance = budget.take(identity, limit)
        except SQLAlchemyError:
            _uncounted.uncounted(budget.name)
            return {}
        if not allowance.allowed:
            record_rate_limited(budget.name)
            raise TooManyRequests(allowance.headers())
        return allowance.headers()

    return admit


class SharedLimitMiddleware:
    """Spends one unit of a shared budget per request that `identify` names, before the
    route runs; answers 429 with Retry-After when the identity's window is spent.

    Most requests are served from this worker's leased slice without leaving the event loop;
    one in a slice's size waits for a lease in a worker thread. When the database cannot
    lease (it is down or refuses), the request goes on uncounted: the limit protects the
    service, it is not the service, and the request meets the same database in its route.
    """

    def __init__(self, app: ASGIApp, budget: SharedBudget, identify: Identify) -> None:
        self.app = app
        self.budget = budget
        self.identify = identify

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.identify(scope) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        identity, limit = found
        allowance = self.budget.take_local(identity, limit)
        if allowance is None:
            try:
                allowance = await run_in_thread(self.budget.take, identity, limit)
            except SQLAlchemyError:
                _uncounted.uncounted(self.budget.name)
                await self.app(scope, receive, send)
                return
        if not allowance.allowed:
            await refuse(scope, receive, send, allowance, self.budget.name)
            return
        await self.app(scope, receive, sending_headers(send, allowance))
