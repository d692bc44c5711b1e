"""The outermost operations middleware: request id, one JSON access line, request metrics."""

import contextlib
import logging
import os
import re
import time

from fastapi.routing import RouteContext, iter_route_contexts
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.server.errors import ServerError
from boxoffice.server.ops.logs import ACCESS_LOGGER, REQUEST_ID
from boxoffice.server.ops.metrics import observe_request
from boxoffice.server.ops.scope import header
from boxoffice.server.responses import error_response
from boxoffice.server.tenancy.principal import principal_of

# An incoming X-Request-ID (from a proxy or the caller) is kept when it is this tame; anything
# else could smuggle text into logs, so a fresh id replaces it.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Probes and scrapes that succeed are logged at debug level: every few seconds, every worker.
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_USER_AGENT_MAX = 200

logger = logging.getLogger(ACCESS_LOGGER)


def new_request_id() -> str:
    """A random version 4 UUID as 32 hex digits, what `uuid.uuid4().hex` gives, at a third
    of its cost: the same 16 bytes of os.urandom with the version and variant bits set,
    without building a UUID object."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    return raw.hex()


class AccessMiddleware:
    """Gives every response an X-Request-ID, and after it logs one line and counts it.

    The access line has no query string (callers may put anything there) and no
    Authorization header: the key appears only as its public prefix.
    """

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        self.routes = routes
        self._templates: dict[int, str] | None = None
        self._contexts: list[RouteContext] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.fullmatch(incoming) else new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        # Not reset afterwards: the request runs in a task of its own, and uvicorn's log of an
        # unhandled error, written after this returns, should carry the id too.
        REQUEST_ID.set(request_id)
        started_at = time.perf_counter()
        status: int | None = None
        sent_bytes = 0
        complete = False
        error: str | None = None

        async def send_observed(message: Message) -> None:
            nonlocal status, sent_bytes, complete
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                sent_bytes += len(message.get("body", b""))
                complete = not message.get("more_body", False)
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except Exception as exc:
            error = type(exc).__name__
            if status is None:
                # The app's handler for unexpected errors sits outside every user middleware;
                # answering here (same body) lets the 500 carry the request id as well. The
                # error is raised on, so the server still logs its traceback.
                response = error_response(ServerError())
                with contextlib.suppress(Exception):
                    await response(scope, receive, send_observed)
            raise
        finally:
            seconds = time.perf_counter() - started_at
            final_status = status if status is not None else 500
            route = self._route_template(scope)
            observe_request(scope["method"], route, final_status, seconds)
            self._log(scope, request_id, route, final_status, seconds, sent_bytes, complete, error)

    def _route_template(self, scope: Scope) -> str:
        """The path template of the request's route, as in the OpenAPI document.

        Labels never carry raw paths (client names, ids). Requests refused before routing
        (401, 413, 429) are matched here against the same routes.
        """
        if self._templates is None:
            # FastAPI keeps included routers as branches whose routes know only their own
            # part of the path; iter_route_contexts gives the full one, as the OpenAPI
            # document shows it. Read once: every route exists before the first request.
            contexts = list(iter_route_contexts(self.routes))
            self._templates = {id(c.original_route): c.path for c in contexts if c.path}
            self._contexts = [c for c in contexts if c.path]
        routed = scope.get("route")
        if routed is not None and id(routed) in self._templates:
            return self._templates[id(routed)]
        partial: str | None = None
        for context in self._contexts:
            match, _ = context.matches(scope)
            if match is Match.FULL:
                return str(context.path)
            if match is Match.PARTIAL and partial is None:
                partial = str(context.path)
        return partial or "unmatched"

    def _log(
        self,
        scope: Scope,
        request_id: str,
        route: str,
        status: int,
        seconds: float,
        sent_bytes: int,
        complete: bool,
        error: str | None,
    ) -> None:
        quiet = scope["path"] in _QUIET_PATHS and status < 400
        level = logging.DEBUG if quiet else logging.INFO
        if not logger.isEnabledFor(level):
            return
        principal = principal_of(scope)
        tenant, prefix = principal.tenant, principal.key_prefix
        user_agent = header(scope, b"user-agent")
        fields: dict[str, object] = {
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "bytes": sent_bytes,
            "client": principal.address,
            "tenant": tenant.name if tenant else None,
            "key": f"bo_{prefix}" if prefix else None,
            "user_agent": user_agent[:_USER_AGENT_MAX] if user_agent else None,
        }
        if not complete:
            fields["incomplete"] = True
        if error is not None:
            fields["error"] = error
        message = f"{scope['method']} {scope['path']} {status}"
        # What Logger.log does, less its walk up the stack to find the caller (known here):
        # record factories, filters, handlers and propagation apply as they did.
        code = _LOG_CODE
        record = logger.makeRecord(
            logger.name,
            level,
            code.co_filename,
            code.co_firstlineno,
            message,
            (),
            None,
            code.co_name,
            {"fields": fields},
        )
        logger.handle(record)


# The access line's source for its log record (pathname, lineno, funcName).
_LOG_CODE = AccessMiddleware._log.__code__
