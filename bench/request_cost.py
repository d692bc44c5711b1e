"""The CPU one request costs the server, in-process: a focused measurement for the request path.

`make onsale` measures a whole server under 32 buyers on a shared machine, where the other
sessions' load moves every figure. This measures what one change to the request path buys:
the app (create_app, the access log formatted and written to /dev/null, metrics in
multiprocess mode as under `serve --workers 2`) is called directly as an ASGI application
on one event loop, no network, with --concurrency requests in flight, and the process's
CPU time (all threads: event loop and thread pool) is divided by the requests. CPU time
is what a busy machine disturbs least; wall time is reported too.

Per database (a scratch SQLite file or PostgreSQL database, dropped afterwards; on
PostgreSQL the backend's CPU is not counted), the catalog of bench/onsale.py, then for
each kind: `GET /healthz`, the minimal authenticated read (`GET .../export/clienttypes`),
`GET /event/{id}` of the unreserved event (`event`) and of the 2,000-seat hall (`event
hall`), `GET /seating/{id}` of the hall (`seating`), and the order cycle (create cart, hold
2 places best available, check out) of the unreserved event (`order`) and of the hall
(`order hall`), --requests of each (orders: --requests / 3). The orders of all --rounds
must fit their event (the hall: 2,000 seats, 2 an order, after a warm-up of 9 orders):
more is refused before anything runs. With --sold-out every place of both events is sold
through the API first (8 in flight, 2 a order), so that the reads can be compared with
nothing and with everything sold (order kinds are refused then).

    uv run python bench/request_cost.py [--databases sqlite,postgresql] [--requests 600]
        [--concurrency 8] [--rounds 3] [--kinds event,event hall,...] [--sold-out]
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import logging.config
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

# Metrics as under `boxoffice serve --workers 2`: set before prometheus_client is imported;
# a directory of this run's own is removed when it ends.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    _METRICS = tempfile.mkdtemp(prefix="boxoffice-cost-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _METRICS
    atexit.register(shutil.rmtree, _METRICS, ignore_errors=True)

from harness import Scratch
from onsale import (
    CAPACITY,
    CLIENT,
    MINIMAL_READ,
    PAYMENT_METHOD,
    RESERVED,
    RESERVED_PRICE,
    RESERVED_RANK,
    TICKETS_PER_ORDER,
    UNRESERVED,
    UNRESERVED_PRICE,
    UNRESERVED_RANK,
    prepare,
)

Call = Callable[[str, str, bytes | None], Awaitable[tuple[int, bytes]]]


def driver(app: Any, key: str) -> Call:
    """Call the ASGI app as uvicorn would, minus the socket."""
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"authorization", key.encode()),
        (b"user-agent", b"request-cost"),
    ]

    async def call(method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        extra = [] if body is None else [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]  # fmt: skip
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers + extra,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body or b"", "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, send)
        return status, b"".join(chunks)

    return call


async def run_kind(call: Call, kind: str, requests: int, concurrency: int) -> dict[str, float]:
    reads = {
        "healthz": "/healthz",
        "minimal read": API + MINIMAL_READ,
        "event": f"{API}/event/{UNRESERVED}",
        "event hall": f"{API}/event/{RESERVED}",
        "seating": f"{API}/seating/{RESERVED}",
    }
    count = [0]

    async def expect(method: str, path: str, body: bytes | None, ok: int) -> bytes:
        status, payload = await call(method, path, body)
        if status != ok:
            raise SystemExit(f"{method} {path}: {status} {payload[:300]!r}")
        count[0] += 1
        return payload

    async def worker(n: int) -> None:
        for _ in range(n):
            if kind in ORDER_EVENTS:
                cart = orjson.loads(await expect("POST", f"{API}/cart", None, 201))["cartId"]
                await expect("POST", f"{API}/cart/{cart}", HOLD[ORDER_EVENTS[kind]], 200)
                await expect("POST", f"{API}/cart/{cart}/checkout", CHECKOUT, 201)
            else:
                await expect("GET", reads[kind], None, 200)

    statements = STATEMENTS[0]
    per_worker = (
        orders_made(requests, concurrency) // concurrency
        if kind in ORDER_EVENTS
        else (max(1, requests // concurrency))
    )
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(per_worker) for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "requests": count[0],
        "cpu_us": cpu / count[0] * 1e6,
        "wall_us": wall / count[0] * 1e6,
        "statements": (STATEMENTS[0] - statements) / count[0],
    }


# SQL statements sent through SQLAlchemy (an executemany counts once; the driver's own
# BEGIN, COMMIT and pings are not counted: see the transactions per request).
STATEMENTS = [0]


def count_statements(engine: Any) -> None:
    """Count on the engine and, on PostgreSQL, its pool in autocommit (the reads')."""
    from sqlalchemy import event

    from boxoffice.server.db.engine import autocommit_engine, is_sqlite

    def _counted(*_args: Any) -> None:
        STATEMENTS[0] += 1

    for pool in [engine] if is_sqlite(engine) else [engine, autocommit_engine(engine)]:
        event.listen(pool, "before_cursor_execute", _counted)


KINDS = ("healthz", "minimal read", "event", "event hall", "seating", "order", "order hall")
# The event each order kind buys on.
ORDER_EVENTS = {"order": UNRESERVED, "order hall": RESERVED}
API = f"/v1/{CLIENT}/peppered"
HOLD = {
    event_id: orjson.dumps([{"priceId": price, "rankId": rank, "numberOfTickets": 2}])
    for event_id, price, rank in (
        (UNRESERVED, UNRESERVED_PRICE, UNRESERVED_RANK),
        (RESERVED, RESERVED_PRICE, RESERVED_RANK),
    )
}
CHECKOUT = orjson.dumps({"paymentMethodId": PAYMENT_METHOD, "paid": True})


async def sell_out(call: Call, concurrency: int) -> None:
    """Sell every place of both events through the API, 2 an order, `concurrency` in flight."""

    async def buyer(event_id: int) -> None:
        while True:
            status, body = await call("POST", f"{API}/cart", None)
            cart = orjson.loads(body)["cartId"]
            status, body = await call("POST", f"{API}/cart/{cart}", HOLD[event_id])
            if status == 409:
                return
            if status != 200:
                raise SystemExit(f"hold: {status} {body[:300]!r}")
            status, body = await call("POST", f"{API}/cart/{cart}/checkout", CHECKOUT)
            if status != 201:
                raise SystemExit(f"checkout: {status} {body[:300]!r}")

    for event_id in (RESERVED, UNRESERVED):
        await asyncio.gather(*(buyer(event_id) for _ in range(concurrency)))


# The warm-up (`measure`): so many requests of each order kind, so many in flight.
WARM_UP_REQUESTS = 30
WARM_UP_IN_FLIGHT = 3


def orders_made(requests: int, concurrency: int) -> int:
    """The orders `run_kind` makes of an order kind for `requests` (3 an order)."""
    return max(1, requests // 3 // concurrency) * concurrency


WARM_UP_ORDERS = orders_made(WARM_UP_REQUESTS, WARM_UP_IN_FLIGHT)


def too_many_orders(args: argparse.Namespace) -> str | None:
    """Why the order kinds asked for cannot run (their event would sell out, or is sold out
    already), or None."""
    for kind in args.kinds.split(","):
        if kind not in ORDER_EVENTS:
            continue
        if args.sold_out:
            return f"{kind}: with --sold-out there is nothing left to order; leave it out"
        event_id = ORDER_EVENTS[kind]
        room = CAPACITY[event_id] // TICKETS_PER_ORDER - WARM_UP_ORDERS
        asked = orders_made(args.requests, args.concurrency) * args.rounds
        if asked > room:
            return (
                f"{kind}: --requests {args.requests} x --rounds {args.rounds} make {asked:,}"
                f" orders of {TICKETS_PER_ORDER} tickets; event {event_id} has room for"
                f" {room:,} after the warm-up (at most"
                f" {room // args.rounds * 3:,} requests a round): ask for fewer"
            )
    return None


async def measure(call: Call, args: argparse.Namespace) -> dict[str, list[dict[str, float]]]:
    kinds = args.kinds.split(",")
    samples: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    # The warm-up: every route once.
    await run_kind(call, "order", WARM_UP_REQUESTS, WARM_UP_IN_FLIGHT)
    await run_kind(call, "order hall", WARM_UP_REQUESTS, WARM_UP_IN_FLIGHT)
    if args.sold_out:
        await sell_out(call, args.concurrency)
    for _ in range(args.rounds):
        for kind in kinds:
            samples[kind].append(await run_kind(call, kind, args.requests, args.concurrency))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"some of {KINDS}")
    parser.add_argument("--sold-out", action="store_true", help="sell every place first")
    args = parser.parse_args()
    unknown = sorted(set(args.kinds.split(",")) - set(KINDS))
    if unknown:
        parser.error(f"--kinds: unknown {', '.join(unknown)}; some of {', '.join(KINDS)}")
    problem = too_many_orders(args)
    if problem is not None:
        parser.error(problem)
    from boxoffice.server.app import create_app
    from boxoffice.server.config import Settings
    from boxoffice.server.ops.logs import log_config

    for database in args.databases.split(","):
        with Scratch(database, "boxoffice_request_cost") as scratch:
            env = {**os.environ, "BOXOFFICE_DATABASE_URL": scratch.url}
            key = prepare(env)
            # The access log as `serve` writes it (JSON lines), into /dev/null.
            stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115
            logging.config.dictConfig(log_config("info"))
            sys.stderr = stderr
            settings = Settings(
                database_url=scratch.url,
                rate_limit_per_minute=0,
                auth_failure_limit_per_minute=0,
            )
            app = create_app(settings)
            count_statements(app.state.engine)
            samples = asyncio.run(measure(driver(app, key), args))
            app.state.engine.dispose()
        sold = " sold out" if args.sold_out else ""
        for kind in samples:
            cpu = statistics.median(s["cpu_us"] for s in samples[kind])
            wall = statistics.median(s["wall_us"] for s in samples[kind])
            statements = statistics.median(s["statements"] for s in samples[kind])
            print(
                f"{database:10} {kind + sold:20} CPU {cpu:8.0f} us/request"
                f"   wall {wall:8.0f} us/request"
                f"   {statements:5.1f} statements/request"
                f"   ({args.rounds} rounds: "
                + ", ".join(f"{s['cpu_us']:.0f}" for s in samples[kind])
                + ")",
                flush=True,
            )


if __name__ == "__main__":
    main()
