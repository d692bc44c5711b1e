"""CPU of the operations middleware alone: each layer, and the stack, around a bare app.

bench/request_cost.py measures whole requests (hundreds of microseconds to milliseconds,
spreading by +-15% on a shared machine); the layers cost microseconds each, below that
noise. This calls them in-process on one event loop, one request at a time, as create_app
stacks them with their defaults (access log formatted into /dev/null at INFO as `serve`
writes it, metrics in multiprocess mode, the failed-authentication and public limits on),
around an ASGI app that answers 200 `{}` at once: process CPU per request above the bare
app's, median of --rounds, for the minimal authenticated read's path (an API path, logged
at INFO), a public API read from a browser (an Origin header; CORS and the per-address
limit at work, its budget leased from a scratch SQLite database 50 at a time) and
`GET /healthz` (a quiet path, logged at DEBUG, so not written).

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

from harness import Scratch
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from boxoffice.server.db.engine import make_engine
from boxoffice.server.db.migrate import upgrade
from boxoffice.server.ops.access import AccessMiddleware
from boxoffice.server.ops.bodylimit import BodyLimitMiddleware
from boxoffice.server.ops.budgets import Budget, SharedBudget
from boxoffice.server.ops.logs import log_config
from boxoffice.server.ops.ratelimit import FailedAuthenticationMiddleware, SharedLimitMiddleware
from boxoffice.server.public.cors import PublicCorsMiddleware
from boxoffice.server.public.ratelimit import per_address

READ = Route("/v1/{client_name}/peppered/export/clienttypes", lambda request: None)
HEALTHZ = Route("/healthz", lambda request: None)
HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"authorization", b"bo_0123abcd_secret"),
    (b"user-agent", b"ops-cost"),
]
BROWSER = [(b"host", b"127.0.0.1:8000"), (b"origin", b"https://venue.example")]
# Each kind: its path and its request headers.
KINDS = {
    "minimal read": ("/v1/venue/peppered/export/clienttypes", HEADERS),
    "public read": ("/v1/venue/event/1", BROWSER),
    "healthz": ("/healthz", HEADERS),
}


async def bare(scope: Scope, receive: Receive, send: Send) -> None:
    """The app under the layers: routed (as the router marks a scope) and answered at once."""
    scope["route"] = READ if scope["path"].startswith("/v1/") else HEALTHZ
    headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"{}"})


def layers(public_limit: SharedBudget) -> dict[str, ASGIApp]:
    """Each layer alone around the bare app, then all of them, outermost first as create_app
    orders them."""

    def access(app: ASGIApp) -> ASGIApp:
        return AccessMiddleware(app, routes=[READ, HEALTHZ])

    def failed_authentication(app: ASGIApp) -> ASGIApp:
        return FailedAuthenticationMiddleware(app, budget=Budget(20))

    def body_limit(app: ASGIApp) -> ASGIApp:
        return BodyLimitMiddleware(app, max_bytes=10_000_000)

    def cors(app: ASGIApp) -> ASGIApp:
        return PublicCorsMiddleware(app)

    def public_limit_layer(app: ASGIApp) -> ASGIApp:
        # A limit no run reaches: every request is counted, none refused.
        return SharedLimitMiddleware(app, budget=public_limit, identify=per_address(10**9))

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


async def cpu_per_request(
    app: ASGIApp, path: str, headers: list[tuple[bytes, bytes]], requests: int
) -> float:
    started = time.process_time()
    for _ in range(requests):
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "state": {},
        }
        await app(scope, receive, send)
    return (time.process_time() - started) / requests * 1e6


async def measure(args: argparse.Namespace, public_limit: SharedBudget) -> None:
    apps = layers(public_limit)
    for kind, (path, headers) in KINDS.items():
        rounds = range(args.rounds)
        floor = statistics.median(
            [await cpu_per_request(bare, path, headers, args.requests) for _ in rounds]
        )
        for name, app in apps.items():
            cpu = [await cpu_per_request(app, path, headers, args.requests) - floor for _ in rounds]
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
    with Scratch("sqlite", "boxoffice_ops_cost") as scratch:
        engine = make_engine(scratch.url)
        upgrade(engine)
        public_limit = SharedBudget(engine, name="public", window_seconds=3600)
        asyncio.run(measure(args, public_limit))
        engine.dispose()


if __name__ == "__main__":
    main()
