"""What a full garbage collection costs a served worker, with and without its startup
objects frozen (`gc.freeze`, app.served_app).

A worker process lives as long as the server, and what `create_app` made (the modules,
the routes, the engine) lives as long as it. Python's collector goes over every object it
tracks at each full collection, which stops the worker's event loop meanwhile; frozen
objects it skips. This builds the app as a worker does (a scratch SQLite file, nothing
read from the environment but what the settings default to), counts the objects the
collector tracks, and times a full collection (`gc.collect()`) --rounds times before and
after `gc.freeze()`; each figure is the median of the rounds, the rounds in brackets.

    uv run python bench/gc_cost.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path

from boxoffice.server.app import create_app
from boxoffice.server.config import Settings


def _collections(rounds: int) -> list[float]:
    """The milliseconds of `rounds` full collections."""
    spent = []
    for _ in range(rounds):
        started = time.perf_counter()
        gc.collect()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def _line(name: str, spent: list[float]) -> str:
    rounds = ", ".join(f"{ms:.1f}" for ms in spent)
    return f"{name}: a full collection {statistics.median(spent):.1f} ms ({rounds})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="boxoffice-gc-") as scratch:
        settings = Settings(database_url=f"sqlite:///{Path(scratch) / 'gc.db'}")
        app = create_app(settings)
        tracked = len(gc.get_objects())
        print(f"objects the collector tracks once the app is made: {tracked:,}")
        print(_line("not frozen", _collections(args.rounds)))
        gc.freeze()
        print(f"frozen: {gc.get_freeze_count():,} objects")
        print(_line("frozen", _collections(args.rounds)))
        gc.unfreeze()
        app.state.engine.dispose()


if __name__ == "__main__":
    main()
