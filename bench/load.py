"""Load test: a mix of exports, catalog reads and checkouts against a real 2-worker server.

Makes a scratch database (PostgreSQL by default, `--sqlite` for a SQLite file), migrates it,
loads the small demo (`boxoffice demo --scale small`), starts `boxoffice serve --workers 2`
on 127.0.0.1 with the rate limits off, and for `--seconds` runs `--clients` client threads,
each sending one request after another (closed loop, no think time) with this mix:

* exports (20%): incremental (`changedSince` = the last `X-Sync-Watermark` the thread saw
  for that dataset) and small full exports (`{"limit": 100}`), of customers, orders and
  waiting list, the body read to its end;
* catalog reads (50%): GET /event, /event/{id}, /seating/{id};
* checkouts (30%): POST /cart, POST /cart/{id} with one or two best-available tickets of a
  future event, POST /cart/{id}/checkout.

It prints per kind of request: count, throughput, p50/p99 latency and errors, and writes the
same to bench/results/load.json (load-sqlite.json with --sqlite). A 409 when adding tickets
(the event is sold out) is expected and counted apart; any other non-2xx answer or transport
error is an error, and then the exit status is 1.

    make load                                   # PostgreSQL, 60 s
    uv run python bench/load.py --seconds 60 [--sqlite] [--clients 8] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psutil
from harness import ROOT, Scratch, Server, boxoffice, server_env, total_cpu_seconds
from rich.console import Console
from rich.table import Table

RESULTS = ROOT / "bench" / "results"
SCRATCH_DATABASE = "boxoffice_load"
CLIENT = "load"
DATASETS = ("customers", "orders", "waitinglist")
# The order of the table; each request is counted under one of these.
KINDS = (
    "export incremental",
    "export limit=100",
    "GET /event",
    "GET /event/{id}",
    "GET /seating/{id}",
    "POST /cart",
    "POST /cart/{id}",
    "POST /cart/{id}/checkout",
)
REQUEST_SECONDS = 60
# A wide table also when the output goes to a file or a CI log.
console = Console(width=None if sys.stdout.isatty() else 120)


@dataclass
class Catalog:
    """What the clients choose from: future events' prices, customers, payment methods."""

    event_ids: list[int]
    prices: list[dict[str, Any]]
    customer_ids: list[int]
    payment_method_ids: list[int]


@dataclass
class Tally:
    """One client thread's measurements; merged after the run."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    expected_409: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)
    records_exported: int = 0


class LoadClient(threading.Thread):
    """Sends requests back to back until the deadline."""

    def __init__(self, base: str, key: str, catalog: Catalog, deadline: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.http = httpx.Client(
            base_url=base, headers={"Authorization": key}, timeout=REQUEST_SECONDS
        )
        self.catalog = catalog
        self.deadline = deadline
        self.random = random.Random(seed)
        self.tally = Tally()
        self.watermarks: dict[str, str] = {}

    def run(self) -> None:
        try:
            while time.monotonic() < self.deadline:
                roll = self.random.random()
                if roll < 0.2:
                    self.export()
                elif roll < 0.7:
                    self.catalog_read()
                else:
                    self.checkout()
        finally:
            self.http.close()

    def send(
        self, kind: str, method: str, path: str, ok: int, expected: tuple[int, ...] = (), **kw: Any
    ) -> httpx.Response | None:
        """One request, timed to its last byte; None unless it answered `ok`."""
        started = time.perf_counter()
        try:
            response = self.http.request(method, path, **kw)
            response.read()
        except httpx.HTTPError as exc:
            self._error(kind, f"{kind}: {exc!r}")
            return None
        elapsed = time.perf_counter() - started
        if response.status_code == ok:
            self.tally.latencies[kind].append(elapsed)
            return response
        if response.status_code in expected:
            self.tally.expected_409[kind] += 1
            self.tally.latencies[kind].append(elapsed)
            return None
        self._error(kind, f"{kind}: {response.status_code} {response.text[:200]}")
        return None

    def _error(self, kind: str, sample: str) -> None:
        self.tally.errors[kind] += 1
        if len(self.tally.samples) < 5:
            self.tally.samples.append(sample)

    def export(self) -> None:
        dataset = self.random.choice(DATASETS)
        path = f"/export/{dataset}"
        incremental = dataset in self.watermarks and self.random.random() < 0.75
        if incremental:
            body = {"changedSince": self.watermarks[dataset]}
            response = self.send("export incremental", "POST", path, 200, json=body)
        else:
            response = self.send("export limit=100", "POST", path, 200, json={"limit": 100})
        if response is None:
            return
        self.tally.records_exported += len(response.json())
        watermark = response.headers.get("x-sync-watermark")
        # The next incremental export starts where this one's snapshot ended (a first page
        # starts the chain, as a sync client would after its initial load).
        if watermark and (incremental or dataset not in self.watermarks):
            self.watermarks[dataset] = watermark

    def catalog_read(self) -> None:
        event_id = self.random.choice(self.catalog.event_ids)
        roll = self.random.random()
        if roll < 0.2:
            self.send("GET /event", "GET", "/event", 200)
        elif roll < 0.6:
            self.send("GET /event/{id}", "GET", f"/event/{event_id}", 200)
        else:
            self.send("GET /seating/{id}", "GET", f"/seating/{event_id}", 200)

    def checkout(self) -> None:
        cart = self.send("POST /cart", "POST", "/cart", 201)
        if cart is None:
            return
        cart_id = cart.json()["cartId"]
        price = self.random.choice(self.catalog.prices)
        item = {
            "priceId": price["priceId"],
            "rankId": price["rankId"],
            "eventId": price["eventId"],
            "numberOfTickets": self.random.randint(1, 2),
        }
        held = self.send("POST /cart/{id}", "POST", f"/cart/{cart_id}", 200, (409,), json=[item])
        if held is None:
            return
        body: dict[str, Any] = {
            "paymentMethodId": self.random.choice(self.catalog.payment_method_ids)
        }
        if self.random.random() < 0.7:
            body["customerId"] = self.random.choice(self.catalog.customer_ids)
        self.send("POST /cart/{id}/checkout", "POST", f"/cart/{cart_id}/checkout", 201, json=body)


def read_catalog(base: str, key: str) -> Catalog:
    with httpx.Client(base_url=base, headers={"Authorization": key}, timeout=300) as http:
        events = http.get("/event", params={"startDate": date.today().isoformat()}).json()
        customers = http.post("/export/customers").json()
        methods = http.get("/paymentmethods").json()
    prices = [
        {**price, "eventId": event["eventId"]} for event in events for price in event["prices"]
    ]
    if not prices:
        raise RuntimeError("the demo data has no future events to sell")
    return Catalog(
        event_ids=[e["eventId"] for e in events],
        prices=prices,
        customer_ids=[c["customerId"] for c in customers if c["email"]],
        payment_method_ids=[m["paymentMethodId"] for m in methods],
    )


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return 0.0
    rank = max(1, round(fraction * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def run(database: str, seconds: float, clients: int, workers: int) -> dict[str, Any]:
    with Scratch(database, SCRATCH_DATABASE) as scratch:
        env = server_env(scratch.url, BOXOFFICE_LOG_LEVEL="warning")
        console.print(f"[bold]load[/]: {database} scratch database; migrate, demo --scale small")
        boxoffice(env, "migrate")
        demo_started = time.monotonic()
        key = (
            boxoffice(env, "demo", "--client", CLIENT, "--scale", "small").strip().splitlines()[-1]
        )
        demo_seconds = time.monotonic() - demo_started
        with Server(env, workers) as server:
            base = f"{server.url}/v1/{CLIENT}/peppered"
            catalog = read_catalog(base, key)
            processes = server.processes()
            console.print(
                f"server ready (pid {server.process.pid}, {len(processes)} processes); "
                f"{clients} clients for {seconds:g} s"
            )
            cpu_before = total_cpu_seconds(processes)
            peak_rss = 0
            load_before = os.getloadavg()
            started = time.monotonic()
            deadline = started + seconds
            pool = [LoadClient(base, key, catalog, deadline, seed) for seed in range(clients)]
            for thread in pool:
                thread.start()
            while any(t.is_alive() for t in pool):
                rss = 0
                for process in processes:
                    try:
                        rss += process.memory_info().rss
                    except psutil.Error:
                        continue
                peak_rss = max(peak_rss, rss)
                for thread in pool:
                    thread.join(timeout=0.5)
            elapsed = time.monotonic() - started
            cpu_used = total_cpu_seconds(processes) - cpu_before
            load_after = os.getloadavg()
    return report(
        database=database,
        seconds=seconds,
        elapsed=elapsed,
        clients=clients,
        workers=workers,
        pool=pool,
        server_cpu_seconds=cpu_used,
        peak_rss=peak_rss,
        demo_seconds=demo_seconds,
        load=(load_before, load_after),
    )


def report(
    *,
    database: str,
    seconds: float,
    elapsed: float,
    clients: int,
    workers: int,
    pool: list[LoadClient],
    server_cpu_seconds: float,
    peak_rss: int,
    demo_seconds: float,
    load: tuple[tuple[float, float, float], tuple[float, float, float]],
) -> dict[str, Any]:
    kinds: dict[str, Any] = {}
    for kind in KINDS:
        values = sorted(v for t in pool for v in t.tally.latencies.get(kind, []))
        errors = sum(t.tally.errors.get(kind, 0) for t in pool)
        kinds[kind] = {
            "requests": len(values) + errors,
            "per_second": round((len(values) + errors) / elapsed, 1),
            "p50_ms": round(percentile(values, 0.50) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1),
            "expected_409": sum(t.tally.expected_409.get(kind, 0) for t in pool),
            "errors": errors,
        }
    total = sum(k["requests"] for k in kinds.values())
    return {
        "command": "uv run python bench/load.py --seconds {:g} --clients {} --workers {}{}".format(
            seconds, clients, workers, " --sqlite" if database == "sqlite" else ""
        ),
        "database": database,
        "seconds": round(elapsed, 1),
        "client_threads": clients,
        "server_workers": workers,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load[0]],
            "load_average_after": [round(x, 2) for x in load[1]],
            "python": platform.python_version(),
            "platform": platform.platform(),
            "note": "client threads and server share the machine",
        },
        "demo_seconds": round(demo_seconds, 1),
        "requests": total,
        "per_second": round(total / elapsed, 1),
        "server_cpu_seconds": round(server_cpu_seconds, 1),
        "requests_per_server_cpu_second": round(total / server_cpu_seconds, 1)
        if server_cpu_seconds
        else None,
        "server_peak_rss_mib": round(peak_rss / 2**20, 1),
        "records_exported": sum(t.tally.records_exported for t in pool),
        "errors": sum(k["errors"] for k in kinds.values()),
        "error_samples": [s for t in pool for s in t.tally.samples][:10],
        "kinds": kinds,
    }


def print_report(result: dict[str, Any]) -> None:
    table = Table(
        title=f"{result['database']}: {result['seconds']} s, {result['client_threads']} clients, "
        f"{result['server_workers']} workers"
    )
    for column in ("kind", "requests", "req/s", "p50 ms", "p99 ms", "409 (expected)", "errors"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for kind, row in result["kinds"].items():
        table.add_row(
            kind,
            str(row["requests"]),
            f"{row['per_second']:.1f}",
            f"{row['p50_ms']:.1f}",
            f"{row['p99_ms']:.1f}",
            str(row["expected_409"]),
            f"[red]{row['errors']}[/]" if row["errors"] else "0",
        )
    table.add_row(
        "[bold]all[/]",
        str(result["requests"]),
        f"{result['per_second']:.1f}",
        "",
        "",
        "",
        str(result["errors"]),
    )
    console.print(table)
    machine = result["machine"]
    console.print(
        f"server: {result['server_cpu_seconds']} CPU s "
        f"({result['requests_per_server_cpu_second']} requests per CPU second), "
        f"peak RSS {result['server_peak_rss_mib']} MiB (supervisor + workers); "
        f"{result['records_exported']} records exported; machine: {machine['cpus']} CPUs, "
        f"load average {machine['load_average_before'][0]} -> {machine['load_average_after'][0]}"
    )
    for sample in result["error_samples"]:
        console.print(f"[red]error[/]: {sample}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--seconds", type=float, default=60.0, help="duration of the load")
    parser.add_argument("--clients", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--output", type=Path, help="JSON results (default bench/results/...)")
    args = parser.parse_args()
    if not 0 < args.seconds <= 3600:
        parser.error("--seconds must be in (0, 3600]")
    if not 0 < args.clients <= 64:
        parser.error("--clients must be in 1..64")
    database = "sqlite" if args.sqlite else "postgresql"
    output = args.output or RESULTS / ("load-sqlite.json" if args.sqlite else "load.json")
    result = run(database, args.seconds, args.clients, args.workers)
    print_report(result)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    console.print(
        f"results written to {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}"
    )
    if result["errors"] or not result["requests"]:
        console.print(f"[red]{result['errors']} unexpected errors[/]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
