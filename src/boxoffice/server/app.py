"""create_app(): routers, middleware and error handlers."""

import gc
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import Response
from fastapi.routing import RouteContext, iter_route_contexts
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from boxoffice import __version__
from boxoffice.server.carts.routes import router as carts_router
from boxoffice.server.catalog.routes import router as catalog_router
from boxoffice.server.config import Settings, get_settings
from boxoffice.server.customers.routes import router as customers_router
from boxoffice.server.db.engine import make_engine
from boxoffice.server.embed.install import install_embed
from boxoffice.server.errors import (
    AppError,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    ServerError,
)
from boxoffice.server.exports.routes import order_list_router
from boxoffice.server.exports.routes import router as exports_router
from boxoffice.server.home import install_home_page
from boxoffice.server.lenient import TrailingSlashMiddleware
from boxoffice.server.openapi import build_openapi
from boxoffice.server.ops import install_operations
from boxoffice.server.orders.routes import router as orders_router
from boxoffice.server.paths import PEPPERED_PATH, PEPPERED_PREFIX
from boxoffice.server.places.routes import router as places_router
from boxoffice.server.public.install import install_public_api
from boxoffice.server.responses import error_response, json_response
from boxoffice.server.shop.routes import router as shop_router
from boxoffice.server.tenancy.auth import AuthenticationMiddleware
from boxoffice.server.tenancy.service import CLIENT_NAME
from boxoffice.server.threadpool import size_for
from boxoffice.server.values.clock import Clock, now_micros
from boxoffice.server.waitinglist.routes import router as waitinglist_router

# The Peppered API's routers are mounted here (server/paths.py declares the URL shapes).
API_PREFIX = PEPPERED_PREFIX
_UNPARSEABLE_BODY = "There was an error parsing the body"


# The Peppered API's routers, mounted at API_PREFIX in this order.
_PEPPERED_ROUTERS = (
    exports_router,
    customers_router,
    catalog_router,
    places_router,
    carts_router,
    order_list_router,
    orders_router,
    waitinglist_router,
)


async def client_name_parameter(
    client_name: Annotated[str, Path(pattern=CLIENT_NAME.pattern, max_length=64)],
) -> str:
    """Declares `client_name` in the OpenAPI document (documented_routes): the middleware
    checks it before routing, so the routes that serve requests do not depend on it."""
    return client_name


def documented_routes(app: FastAPI) -> list[RouteContext]:
    """The routes the OpenAPI document is made from: the app's, the Peppered API's included
    once more with the dependency that declares `client_name`.

    A router-level dependency is solved on every request (20 us of CPU for this one, which
    only repeats the authentication middleware's check), so the served routes have none;
    these copies are built when the document is, and never serve a request.
    """
    documented = APIRouter()
    for router in _PEPPERED_ROUTERS:
        documented.include_router(
            router, prefix=API_PREFIX, dependencies=[Depends(client_name_parameter)]
        )
    served = iter_route_contexts(app.routes)
    return [
        *(route for route in served if not PEPPERED_PATH.match(route.path or "")),
        *iter_route_contexts(documented.routes),
    ]


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) if parts else "body"


def _validation_errors(exc: RequestValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        kind = error.get("type", "")
        if kind == "json_invalid":
            field, problem = "body", "The body is not valid JSON."
        elif kind == "missing":
            field = _field_name(loc)
            problem = f"The {field} field is required."
        elif kind == "extra_forbidden":
            field = _field_name(loc)
            problem = f"The {field} field is not allowed."
        else:
            field = _field_name(loc)
            problem = f"The {field} field is invalid: {error.get('msg', 'invalid value')}."
        errors.setdefault(field, []).append(problem)
    return errors


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> Response:
        errors = _validation_errors(exc)
        first = next(iter(errors.values()))[0]
        return error_response(InvalidInput(errors, message=first))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == _UNPARSEABLE_BODY:
            # FastAPI refuses a body it cannot parse at all (not UTF-8, nested too deeply)
            # with a 400 of its own; the contract's answer to malformed JSON is a 422.
            return error_response(InvalidInput.field("body", "The body is not valid JSON."))
        if exc.status_code in (404, 405):
            error = (
                NotFound() if exc.status_code == 404 else MethodNotAllowed("Method not allowed.")
            )
            error.headers = dict(exc.headers) if exc.headers else None
            return error_response(error)
        return json_response({"message": str(exc.detail)}, exc.status_code, exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, _exc: Exception) -> Response:
        # Never a stack trace in the response; the server log has it.
        return error_response(ServerError())


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, *, clock: Clock = now_micros
) -> FastAPI:
    """The app; `clock` is the time of the rate limits' windows (tests set it)."""
    settings = settings or get_settings()
    engine = engine or make_engine(
        settings.database_url, connect_timeout=settings.database_connect_timeout_seconds
    )
    # FastAPIOffline serves the /docs page's assets itself: it works with no internet access.
    app = FastAPIOffline(
        title="Boxoffice",
        version=__version__,
        description="Peppered-compatible ticketing data API with a bulk export API. Input is "
        "read as PHP and Laravel clients send it: JSON or form bodies, integers also as "
        "numeric strings, `[]`/`null`/no body as no parameters, query parameters of a POST "
        "merged into its body (or refused), a trailing slash as the same path (docs/input.md).",
    )
    app.state.settings = settings
    app.state.engine = engine
    size_for(engine.dialect.name)
    install_error_handlers(app)
    install_home_page(app)
    for router in _PEPPERED_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.add_middleware(AuthenticationMiddleware, engine=engine)
    install_public_api(app, settings, engine, clock)
    # The ticket shop's pages (HTML, per client under /{client_name}/shop).
    app.include_router(shop_router)
    install_embed(app)
    if settings.extensions:
        # Accept-Encoding: gzip (an extension). It streams: each chunk of an export is
        # compressed and flushed as it passes, so memory stays flat and bytes keep flowing.
        app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=5)
    install_operations(app, settings, engine, clock)
    # Outermost: every layer below (logs, limits, authentication, routing) sees `/path/` as
    # `/path`, and the router never answers a trailing slash with a redirect.
    app.router.redirect_slashes = False
    app.add_middleware(TrailingSlashMiddleware)
    app.openapi = lambda: build_openapi(app, documented_routes(app))  # type: ignore[method-assign]
    build_route_handlers(app)
    return app


def served_app() -> FastAPI:
    """The app as `boxoffice serve` runs it in each worker process: `create_app`, then what
    it made (the modules, the routes, the engine: some 155,000 objects) put out of the
    garbage collector's reach (`gc.freeze`). They live as long as the process, yet every
    full collection went over them all, stopping the worker's event loop meanwhile (30-42
    ms a collection for these alone, `bench/gc_cost.py`), its requests holding an event's
    row lock or waiting behind one; under an on-sale's load a worker makes one every few
    seconds. Frozen, a full collection goes over what was made since. Only for the served
    process: a test's app is one of many in its process, whose garbage would stay for
    good."""
    app = create_app()
    gc.freeze()
    return app


def build_route_handlers(app: FastAPI) -> None:
    """Build every route's request handler now, before the first request.

    FastAPI builds the routes of an included router (their dependencies, body and response
    fields) when the first request reaches that router. A fresh worker's first burst then
    builds them while it is being served: slower first answers, and with several event
    loops on one app (test clients in threads) the builds race each other. Built here,
    once, the requests only read them.
    """
    for _context in iter_route_contexts(app.router.routes):
        pass
