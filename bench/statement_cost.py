"""PostgreSQL: the CPU one statement of the request path costs, on each side of the socket.

A read of the Peppered API on PostgreSQL runs two statements: the key check
(tenancy/repository.py, ACTIVE_KEY) and the route's own (for the minimal read, the client's
tag names). This runs them on the driver's cursor, as the key check runs (the route's
statement goes through SQLAlchemy in the server, which costs the process more on top), on
one connection in autocommit (prepared by the driver after its fifth use, as in the
server), --statements times each way:

* `key check`, `minimal read`: each statement alone, one round trip each;
* `both, one after the other`: the two, each in a round trip of its own (as served);
* `both, pipelined`: the two sent together in one round trip (psycopg's pipeline mode).

and reports per way the CPU of the database's backend process (its /proc stat), the CPU
of this process (the driver's side: psycopg, the socket) and the wall time, in us. The
ways alternate, --rounds times; the figures are the median of the rounds. What it shows:
how much of a read's cost a round trip is, and how much a statement.

    uv run python bench/statement_cost.py [--statements 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import psycopg
from harness import Scratch, boxoffice
from onsale import CLIENT
from sqlalchemy import Dialect

from boxoffice.server.catalog.tables import client_types
from boxoffice.server.db.engine import make_engine
from boxoffice.server.db.scoping import scoped_select
from boxoffice.server.tenancy.keys import key_prefix
from boxoffice.server.tenancy.repository import ACTIVE_KEY

# The tag names the client has, so that the minimal read returns rows as it does for a venue.
TAGS = ("member", "press", "student", "friend", "donor")


def backend_cpu(pid: int) -> float:
    """The CPU seconds (user and system) the backend process `pid` has used."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ways(
    conn: psycopg.Connection[Any], dialect: Dialect, key: str, tenant_id: int
) -> dict[str, Callable[[], None]]:
    """Each way of running the two statements, by its name in the report."""
    prefix = key_prefix(key)
    key_sql, key_arguments = ACTIVE_KEY.sql_and_arguments(
        dialect, {"p_prefix": prefix, "p_client": CLIENT}
    )
    # The minimal read's statement (exports/repository.py, list_client_types).
    names = scoped_select(client_types, client_types.c.name, tenant_id=tenant_id)
    compiled = names.compile(dialect=dialect)
    read_sql, read_arguments = str(compiled), compiled.params

    def key_check() -> None:
        with conn.cursor() as cursor:
            cursor.execute(key_sql, key_arguments)
            assert cursor.fetchone() is not None

    def minimal_read() -> None:
        with conn.cursor() as cursor:
            cursor.execute(read_sql, read_arguments)
            assert len(cursor.fetchall()) == len(TAGS)

    def separately() -> None:
        key_check()
        minimal_read()

    def pipelined() -> None:
        with conn.cursor() as checked, conn.cursor() as read:
            with conn.pipeline():
                checked.execute(key_sql, key_arguments)
                read.execute(read_sql, read_arguments)
            assert checked.fetchone() is not None
            assert len(read.fetchall()) == len(TAGS)

    return {
        "key check": key_check,
        "minimal read": minimal_read,
        "both, one after the other": separately,
        "both, pipelined": pipelined,
    }


def measure(run: Callable[[], None], statements: int, backend: int) -> tuple[float, float, float]:
    """(backend CPU, this process's CPU, wall) in us per call of `run`."""
    for _ in range(20):
        run()  # past the driver's preparing of the statements
    cpu_before, mine, wall = backend_cpu(backend), time.process_time(), time.perf_counter()
    for _ in range(statements):
        run()
    return (
        (backend_cpu(backend) - cpu_before) / statements * 1e6,
        (time.process_time() - mine) / statements * 1e6,
        (time.perf_counter() - wall) / statements * 1e6,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with Scratch("postgresql", "boxoffice_statements") as scratch:
        env = {**os.environ, "BOXOFFICE_DATABASE_URL": scratch.url}
        boxoffice(env, "migrate")
        key = boxoffice(env, "tenant", "create", CLIENT).strip().splitlines()[-1].strip()
        with psycopg.connect(scratch.url, autocommit=True) as conn:
            row = conn.execute("SELECT id FROM clients WHERE name = %s", (CLIENT,)).fetchone()
            assert row is not None
            tenant_id = int(row[0])
            for tag in TAGS:
                conn.execute(
                    "INSERT INTO client_types (tenant_id, name) VALUES (%s, %s)", (tenant_id, tag)
                )
            engine = make_engine(scratch.url)  # for its dialect, the server's
            runs = ways(conn, engine.dialect, key, tenant_id)
            engine.dispose()
            results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in runs}
            for _ in range(args.rounds):
                for name, run in runs.items():
                    results[name].append(measure(run, args.statements, conn.info.backend_pid))
    print(f"{'':28}{'backend CPU':>14}{'driver CPU':>14}{'wall':>10}   (us each, median)")
    for name, rounds in results.items():
        backend, driver, wall = (statistics.median(r[i] for r in rounds) for i in range(3))
        print(f"{name:28}{backend:14.1f}{driver:14.1f}{wall:10.1f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
