"""The CPU a read costs under a real server, by thread: where a request's time is spent.

`make onsale` reports what a read reaches (req/s, and its ratio to `/healthz`);
`bench/request_cost.py` what one request costs in process, with no HTTP. This measures the
CPU of a read under `boxoffice serve --workers 2` as `make onsale` reads (`wrk`, 16
keep-alive connections, or its asyncio stand-in), split by where it is spent: each
worker's event loop thread (HTTP, middleware, FastAPI, the hand-over's loop side, the
access line), its request threads (the key check, the round trips, the route), on
PostgreSQL the database's backends, and the load generator. Each is its CPU seconds
(/proc, user and system) over the read divided by the requests answered.

Per database (a scratch SQLite file or PostgreSQL database, dropped afterwards), with the
catalog of bench/onsale.py and rate limits off, `/healthz`, the minimal authenticated
read (`GET .../export/clienttypes`) and `GET /event/{id}` of the 2,000-seat hall are read
for --seconds each, in turn, --rounds times; each figure printed is the median of the
rounds, the rounds' own in brackets.

    uv run python bench/thread_cost.py [--databases sqlite,postgresql] [--seconds 5]
        [--rounds 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
from pathlib import Path

import psutil
from harness import Scratch, Server, server_env, total_cpu_seconds
from onsale import (
    CLIENT,
    MINIMAL_READ,
    RESERVED,
    SCRATCH_DATABASE,
    WARM_UP_SECONDS,
    database_backends,
    generator,
    measure_read,
    prepare,
)

API = f"/v1/{CLIENT}/peppered"
# The reads measured: (name, path, whether it takes the key).
READS = (
    ("/healthz", "/healthz", False),
    ("minimal read", API + MINIMAL_READ, True),
    ("GET /event/{id} hall", f"{API}/event/{RESERVED}", True),
)
# Where the CPU is counted, in the order printed.
PARTS = ("event loop thread", "request threads", "database backends", "load generator")


def thread_seconds(workers: list[psutil.Process]) -> dict[tuple[int, int], float]:
    """CPU seconds of every thread of the workers, by (process, thread) id."""
    out = {}
    for worker in workers:
        try:
            for thread in worker.threads():
                out[(worker.pid, thread.id)] = thread.user_time + thread.system_time
        except psutil.Error:
            continue
    return out


def children_seconds() -> float:
    """CPU seconds of this process's children that have ended and been waited for (the
    load generator's runs: `measure_read` waits for each `wrk`; the server, still running,
    is not among them)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(
    server: Server,
    workers: list[psutil.Process],
    backends: list[psutil.Process],
    read_as: tuple[str, str | None],
    seconds: float,
) -> dict[str, float]:
    """One read for `seconds` of a path (`read_as`: the path and the key it is read with,
    if any): req/s and CPU us a request by part."""
    path, key = read_as
    threads_before = thread_seconds(workers)
    backends_before = total_cpu_seconds(backends)
    load_before = children_seconds()
    read = measure_read(server.port, path, key, seconds)
    load = children_seconds() - load_before
    threads_after = thread_seconds(workers)
    backends_after = total_cpu_seconds(backends)
    if read["non_2xx"]:
        raise SystemExit(f"{path}: {read['non_2xx']} answers not 2xx")
    requests = read["rps"] * seconds
    loop = other = 0.0
    for (pid, tid), spent in threads_after.items():
        delta = spent - threads_before.get((pid, tid), 0.0)
        if pid == tid:
            loop += delta
        else:
            other += delta
    if generator() != "wrk":
        load = 0.0  # the asyncio stand-in runs in this process: not counted apart
    return {
        "rps": read["rps"],
        "event loop thread": loop / requests * 1e6,
        "request threads": other / requests * 1e6,
        "database backends": (backends_after - backends_before) / requests * 1e6,
        "load generator": load / requests * 1e6,
    }


def run_database(database: str, args: argparse.Namespace) -> dict[str, list[dict[str, float]]]:
    samples: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in READS}
    with Scratch(database, SCRATCH_DATABASE) as scratch:
        env = server_env(scratch.url)
        key = prepare(env)
        with (
            tempfile.TemporaryDirectory(prefix="boxoffice-thread-cost-") as logs,
            Server(env, workers=2, log=Path(logs) / "server.log") as server,
        ):
            workers = server.workers()
            # Every read once, not counted: the pools' connections made, the routes warm.
            measure_read(server.port, "/healthz", None, WARM_UP_SECONDS)
            for _, path, _ in READS[1:]:
                measure_read(server.port, path, key, 1)
            for _ in range(args.rounds):
                # PostgreSQL's backends serving the pools' connections, as they are now.
                backends = database_backends(scratch.name) if database == "postgresql" else []
                for name, path, with_key in READS:
                    read_as = (path, key if with_key else None)
                    samples[name].append(measure(server, workers, backends, read_as, args.seconds))
    return samples


def report(database: str, samples: dict[str, list[dict[str, float]]]) -> None:
    print(f"\n{database}: CPU us a request, median of the rounds (the rounds)")
    print("| read | req/s | " + " | ".join(PARTS) + " | all |")
    print("|---|--:|" + "--:|" * (len(PARTS) + 1))
    for name, rounds in samples.items():
        cells = [f"{statistics.median(r['rps'] for r in rounds):,.0f}"]
        for part in PARTS:
            values = [r[part] for r in rounds]
            each = ", ".join(f"{v:.0f}" for v in values)
            cells.append(f"{statistics.median(values):.0f} ({each})")
        totals = [sum(r[part] for part in PARTS) for r in rounds]
        cells.append(f"{statistics.median(totals):.0f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=int, default=5, help="each read (whole seconds)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for database in args.databases.split(","):
        report(database, run_database(database, args))


if __name__ == "__main__":
    main()
