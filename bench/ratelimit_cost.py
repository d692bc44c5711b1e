"""CPU per request of the shared per-key rate limit, on SQLite and (if reachable) PostgreSQL.

A scratch database each, migrated; one SharedBudget (one worker) spends 200,000 requests of
a key whose limit is never reached, so a lease of the largest slice (50) is taken every 50
requests, as with the default limit. Prints CPU microseconds per request (leases included)
and the CPU of one lease.

    uv run python bench/ratelimit_cost.py [--requests 200000] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError

from boxoffice.server.db.engine import make_engine
from boxoffice.server.db.migrate import upgrade
from boxoffice.server.ops.budgets import SharedBudget, lease_size

LIMIT = 10**8


def measure(engine: Engine, label: str, requests: int) -> None:
    upgrade(engine)
    budget = SharedBudget(engine, name="bench", window_seconds=60)
    key = uuid.uuid4().hex[:8]
    budget.take(key, LIMIT)
    started = time.process_time()
    for _ in range(requests):
        if budget.take_local(key, LIMIT) is None:
            budget.take(key, LIMIT)
    per_request = (time.process_time() - started) / requests * 1e6
    leases = 1000
    started = time.process_time()
    for n in range(leases):
        # A fresh slice each time: what `take` does once its slice is spent.
        budget.take(f"{key}-{n}", LIMIT)
    per_lease = (time.process_time() - started) / leases * 1e6
    print(
        f"{label}: {per_request:.1f} µs CPU per request (a lease of {lease_size(LIMIT)} every "
        f"{lease_size(LIMIT)} requests included); one lease {per_lease:.0f} µs CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        measure(engine, "SQLite", args.requests)
        engine.dispose()
    name = f"boxoffice_ratelimit_bench_{uuid.uuid4().hex[:8]}"
    server = make_url(args.postgres_url).set(drivername="postgresql+psycopg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as exc:  # no PostgreSQL here: SQLite alone is measured
        print(f"PostgreSQL: not measured ({type(exc).__name__})")
        return
    try:
        engine = make_engine(server.set(database=name).render_as_string(hide_password=False))
        measure(engine, "PostgreSQL", args.requests)
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}"'))
        admin.dispose()


if __name__ == "__main__":
    main()
