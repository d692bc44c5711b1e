"""Production operations: health checks, metrics, access logs, request ids, body and rate limits."""

from fastapi import FastAPI, Response
from sqlalchemy import Engine

from boxoffice.server.config import Settings
from boxoffice.server.ops.access import AccessMiddleware
from boxoffice.server.ops.bodylimit import BodyLimitMiddleware
from boxoffice.server.ops.budgets import Budget, SharedBudget
from boxoffice.server.ops.health import install_health_routes
from boxoffice.server.ops.logs import ensure_logging
from boxoffice.server.ops.metrics import render_metrics
from boxoffice.server.ops.ratelimit import FailedAuthenticationMiddleware, admitting, per_key
from boxoffice.server.tenancy.auth import Admit, AuthenticationMiddleware
from boxoffice.server.values.clock import Clock

__all__ = ["install_operations"]


def install_operations(app: FastAPI, settings: Settings, engine: Engine, clock: Clock) -> None:
    """Add the operations routes and middleware; call it after AuthenticationMiddleware is added.

    Middleware, outermost first: access (request id, log line, metrics) -> failed-authentication
    budget per address -> body limit -> what create_app added before this call (gzip,
    authentication) -> routes. The request budget per key is authentication's last step
    (its `admit`), run in the same worker thread once the key is verified.
    """
    ensure_logging()
    install_health_routes(app, engine)
    if settings.metrics:
        app.add_api_route("/metrics", _metrics, methods=["GET"], include_in_schema=False)
    # Always there: a key with a limit of its own is limited even when the default is off.
    budget = SharedBudget(engine, name="key", window_seconds=60, clock=clock)
    _admit_after_authentication(app, admitting(budget, per_key(settings.rate_limit_per_minute)))
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.auth_failure_limit_per_minute > 0:
        failures = Budget(settings.auth_failure_limit_per_minute)
        app.add_middleware(FailedAuthenticationMiddleware, budget=failures)
    app.add_middleware(AccessMiddleware, routes=app.router.routes)


def _metrics() -> Response:
    body, content_type = render_metrics()
    return Response(body, media_type=content_type)


def _admit_after_authentication(app: FastAPI, admit: Admit) -> None:
    """Give AuthenticationMiddleware `admit`, so that it counts only requests whose key has
    been verified, in the thread that verified it."""
    for entry in app.user_middleware:
        factory: object = entry.cls
        if factory is AuthenticationMiddleware:
            entry.kwargs["admit"] = admit
            return
    raise RuntimeError("install_operations() must run after AuthenticationMiddleware is added")
