"""CPU of one hop to a worker thread and back: Starlette's run_in_threadpool against ours.

Every API request hands its blocking work (the key lookup, the route) to a worker thread.
This times the hop alone, with a function that does nothing: --requests hops, one at a
time and then --concurrency at once, on one event loop; process CPU and wall time per hop,
for `starlette.concurrency.run_in_threadpool` (anyio's worker threads) and for
`boxoffice.server.threadpool.run_in_thread` (a ThreadPoolExecutor), alternating, twice.

    uv run python bench/threadhop_cost.py [--requests 4000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool

from boxoffice.server.threadpool import run_in_thread

Hop = Callable[[Callable[[], None]], Awaitable[None]]


def nothing() -> None:
    return None


async def hops(hop: Hop, count: int) -> None:
    for _ in range(count):
        await hop(nothing)


async def measure(args: argparse.Namespace) -> None:
    sides: dict[str, Hop] = {"run_in_threadpool": run_in_threadpool, "run_in_thread": run_in_thread}
    for _ in range(2):
        for name, hop in sides.items():
            for concurrency in (1, args.concurrency):
                each = args.requests // concurrency
                cpu, wall = time.process_time(), time.perf_counter()
                await asyncio.gather(*(hops(hop, each) for _ in range(concurrency)))
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                count = each * concurrency
                print(
                    f"{name:18} {concurrency:2} in flight   CPU {cpu / count * 1e6:5.0f} us/hop"
                    f"   wall {wall / count * 1e6:5.0f} us/hop",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=8)
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
