"""Mounts the public API on the app: its routers, CORS and the per-address rate limit."""

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

from boxoffice.server.config import Settings
from boxoffice.server.ops.budgets import SharedBudget
from boxoffice.server.ops.ratelimit import SharedLimitMiddleware
from boxoffice.server.public.cart_routes import router as cart_router
from boxoffice.server.public.catalog_routes import router as catalog_router
from boxoffice.server.public.cors import PublicCorsMiddleware
from boxoffice.server.public.order_routes import router as order_router
from boxoffice.server.public.paths import PUBLIC_PREFIX
from boxoffice.server.public.payment_routes import router as payment_router
from boxoffice.server.public.ratelimit import per_address
from boxoffice.server.values.clock import Clock

# Every router of the public API; each feature of it adds its own here.
ROUTERS: tuple[APIRouter, ...] = (catalog_router, cart_router, order_router, payment_router)


def install_public_api(app: FastAPI, settings: Settings, engine: Engine, clock: Clock) -> None:
    """Add the public routes and their middleware; call it right after the authentication
    middleware is added, so that CORS and the rate limit sit just outside it. `clock` is the
    time of the rate limit's windows."""
    for router in ROUTERS:
        app.include_router(router, prefix=PUBLIC_PREFIX)
    if settings.public_rate_limit_requests > 0:
        window = settings.public_rate_limit_window_seconds
        budget = SharedBudget(engine, name="public", window_seconds=window, clock=clock)
        identify = per_address(settings.public_rate_limit_requests)
        app.add_middleware(SharedLimitMiddleware, budget=budget, identify=identify)
    # Outside the rate limit, so that a 429 carries the CORS header a browser needs to read it.
    app.add_middleware(PublicCorsMiddleware)
