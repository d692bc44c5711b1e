"""CPU of the operations middleware alone: each layer, and the stack, around a bare app.

bench/request_cost.py measures whole requests (hundreds of microseconds to milliseconds,
spreading by +-15% on a shared machine); the layers cost microseconds each, below that
noise. This calls them in-process on one event loop, one request at a time, as create_app
stacks them with their defaults (access log formatted into /dev/null at INFO as `serve`
writes it, metrics in multiprocess mode, the failed-authentication and public limits on),
around an ASGI app that answers 200 `{}` at once: process CPU per request above the bare
app's, median of --rounds, for the minimal authenticated read's path (an API path, logged
at INFO) and for `GET /healthz` (a quiet path, logged at DEBUG, so not written).

    uv run python bench/ops_cost.py [--requests 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import logging.config
import os
import statistics
import sys
import tempfile
import time
from typing import Any

# Metrics as under `boxoffice serve --workers 2`: set before prometheus_client is imported.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="boxoffice-ops-"))

from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from boxoffice.server.ops.access import AccessMiddleware
from boxoffice.server.ops.bodylimit import BodyLimitMiddleware
from boxoffice.server.ops.budgets import Budget
from boxoffice.server.ops.logs import log_config
from boxoffice.server.ops.ratelimit import FailedAuthenticationMiddleware, SharedLimitMiddleware
from boxoffice.server.public.cors import PublicCorsMiddleware
from boxoffice.server.public.ratelimit import per_address

READ = Route("/v1/{client_name}/peppered/export/clienttypes", lambda request: None)
HEALTHZ = Route("/healthz", lambda request: None)
PATHS = {"minimal read": "/v1/venue/peppered/export/clienttypes", "healthz": "/healthz"}
HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"authorization", b"bo_0123abcd_secret"),
    (b"user-agent", b"ops-cost"),
]


async def bare(scope: Scope, receive: Receive, send: Send) -> None:
    """The app under the layers: routed (as the router marks a scope) and answered at once."""
    scope["route"] = READ if scope["path"].startswith("/v1/") else HEALTHZ
    headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"{}"})


def layers() -> dict[str, ASGIApp]:
    """Each layer alone around the bare app, then all of them, outermost first as create_app
    orders them (the public rate limit's budget is never asked: these paths are not public)."""
    public_limit: Any = None

    def access(app: ASGIApp) -> ASGIApp:
        return AccessMiddleware(app, routes=[READ, HEALTHZ])

    def failed_authentication(app: ASGIApp) -> ASGIApp:
        return FailedAuthenticationMiddleware(app, budget=Budget(20))

    def body_limit(app: ASGIApp) -> ASGIApp:
        return BodyLimitMiddleware(app, max_bytes=10_000_000)

    def cors(app: ASGIApp) -> ASGIApp:
        return PublicCorsMiddleware(app)

    def public_limit_layer(app: ASGIApp) -> ASGIApp:
        return SharedLimitMiddleware(app, budget=public_limit, identify=per_address(300))

    wrappers = {
        "access": access,
        "failed authentication": failed_authentication,
        "body limit": body_limit,
        "cors": cors,
        "public limit": public_limit_layer,
    }
    apps: dict[str, ASGIApp] = {name: wrap(bare) for name, wrap in wrappers.items()}
    stack: ASGIApp = bare
    for wrap in reversed(wrappers.values()):
        stack = wrap(stack)
    apps["all"] = stack
    return apps


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: dict[str, Any]) -> None:
    return None


async def cpu_per_request(app: ASGIApp, path: str, requests: int) -> float:
    started = time.process_time()
    for _ in range(requests):
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": b"",
            "headers": HEADERS,
            "client": ("127.0.0.1", 50000),
            "state": {},
        }
        await app(scope, receive, send)
    return (time.process_time() - started) / requests * 1e6


async def measure(args: argparse.Namespace) -> None:
    apps = layers()
    for kind, path in PATHS.items():
        rounds = range(args.rounds)
        floor = statistics.median(
            [await cpu_per_request(bare, path, args.requests) for _ in rounds]
        )
        for name, app in apps.items():
            cpu = [await cpu_per_request(app, path, args.requests) - floor for _ in rounds]
            print(
                f"{kind:14} {name:22} {statistics.median(cpu):6.2f} us/request over the bare app"
                f"   ({args.rounds} rounds: " + ", ".join(f"{c:.2f}" for c in cpu) + ")",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    # The access log as `serve` writes it (JSON lines), into /dev/null.
    stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115
    logging.config.dictConfig(log_config("info"))
    sys.stderr = stderr
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
