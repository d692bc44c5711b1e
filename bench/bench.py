"""`make bench`: the export API against its floor, on SQLite and on PostgreSQL.

For each database: the `large` demo client `bench` (built once into bench/data/bench.db and
the PostgreSQL database `boxoffice_bench`; rebuilt only when missing or when its schema
revision is not the migrations' head), then

- the floor: the same export bytes made in-process by bench/floor.py (a raw cursor and the
  database's own JSON functions; the orjson route is timed once next to it as a reference),
  checked to hash the same as the server's JSON response;
- `boxoffice serve` on 127.0.0.1 (rate limits off): each export as JSON, NDJSON and
  JSON+gzip: records/s, MB/s, time to first byte, server peak RSS against idle;
- incremental: an orders export with changedSince after 1,000 orders changed (median of 20);
- the sync client: a full and an incremental `boxoffice sync` into SQLite.

Every throughput is also given as a ratio to the floor: each run times the floor and then
each format right after it, and the ratio reported is the median over the runs of
floor seconds / HTTP seconds. Each measurement is repeated --runs times (median).
Results: bench/results/bench-<timestamp>.json and a Markdown table on stdout.

    uv run python bench/bench.py [--runs 3] [--databases sqlite,postgresql]
"""

import argparse
import gc
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
import psycopg

from boxoffice.server.tenancy.keys import hash_key

sys.path.insert(0, str(Path(__file__).resolve().parent))
import floor
from measure_memory import RssSampler, free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
CLIENT = "bench"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
URLS = {
    "sqlite": f"sqlite:///{DATA / 'bench.db'}",
    "postgresql": "postgresql://postgres@127.0.0.1:5432/boxoffice_bench",
}
DATASETS = ("orders", "customers", "waitinglist")
FORMATS = {
    "json": {"Accept": "application/json", "Accept-Encoding": "identity"},
    "ndjson": {"Accept": "application/x-ndjson", "Accept-Encoding": "identity"},
    "json+gzip": {"Accept": "application/json", "Accept-Encoding": "gzip"},
}
MB = 1_000_000
MIB = 1024 * 1024


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def boxoffice(*args: str, env: dict[str, str] | None = None, **kw: Any) -> Any:
    command = shutil.which("boxoffice", path=str(Path(sys.executable).parent)) or "boxoffice"
    return subprocess.run([command, *args], env={**os.environ, **(env or {})}, **kw)


# --- the dataset -------------------------------------------------------------------------


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
    return head or ""


def current_revision(db: str) -> str | None:
    """The schema revision of the bench database, None when it, its client, or the key kept
    for it is missing (the PostgreSQL database is shared by every checkout on the machine:
    another one may have rebuilt it, with a key of its own)."""
    key_file = DATA / f"{db}.key"
    if not key_file.exists():
        return None
    try:
        src = floor.Source(URLS[db])
    except (psycopg.Error, sqlite3.Error):
        return None
    try:
        rows = src.rows("SELECT version_num FROM alembic_version")
        keys = src.rows(
            "SELECT k.id FROM api_keys k JOIN clients c ON c.id = k.tenant_id"
            " WHERE c.name = ? AND k.key_hash = ?",
            CLIENT,
            hash_key(key_file.read_text().strip()),
        )
    except (psycopg.Error, sqlite3.Error):
        return None
    finally:
        src.close()
    return rows[0][0] if rows and keys else None


def ensure_dataset(db: str) -> str:
    """The bench client's API key, building the dataset first when needed."""
    head = head_revision()
    if current_revision(db) == head:
        log(f"{db}: reusing the bench dataset (revision {head})")
        return (DATA / f"{db}.key").read_text().strip()
    log(f"{db}: building the large demo dataset (a few minutes)")
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / f"{db}.key").unlink(missing_ok=True)
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            (DATA / f"bench.db{suffix}").unlink(missing_ok=True)
    else:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS boxoffice_bench WITH (FORCE)")
            admin.execute("CREATE DATABASE boxoffice_bench")
    env = {"BOXOFFICE_DATABASE_URL": URLS[db]}
    boxoffice("migrate", env=env, check=True, stdout=subprocess.DEVNULL)
    started = time.perf_counter()
    done = boxoffice(
        "demo", "--client", CLIENT, "--scale", "large", env=env, check=True, capture_output=True
    )
    key: str = done.stdout.decode().strip().splitlines()[-1].strip()
    if db == "postgresql":
        # What autovacuum does soon after a bulk load anyway; done here so that every run
        # starts from the same state (visibility map set, statistics current).
        with psycopg.connect(URLS[db], autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    (DATA / f"{db}.key").write_text(key + "\n")
    log(f"{db}: built in {time.perf_counter() - started:.0f} s")
    return key


def tenant_of(db: str) -> tuple[int, zoneinfo.ZoneInfo]:
    src = floor.Source(URLS[db])
    try:
        ((tenant_id, tz),) = src.rows("SELECT id, timezone FROM clients WHERE name = ?", CLIENT)
    finally:
        src.close()
    return tenant_id, zoneinfo.ZoneInfo(tz)


def now_micros() -> int:
    return time.time_ns() // 1000


def change_orders(db: str, tenant_id: int, count: int = 1000) -> int:
    """Move `count` random orders' last_changed_at to now, as the service's writes do (max of
    the current value and the clock); returns the instant just before the change."""
    before = now_micros()
    src = floor.Source(URLS[db])
    try:
        if db == "postgresql":
            src.conn.rollback()
        stamp = now_micros()
        cur = src.conn.cursor()
        mark = src.mark
        cur.execute(
            f"UPDATE orders SET last_changed_at = CASE WHEN last_changed_at > {mark}"
            f" THEN last_changed_at ELSE {mark} END WHERE id IN (SELECT id FROM orders"
            f" WHERE tenant_id = {mark} ORDER BY random() LIMIT {count})",
            (stamp, stamp, tenant_id),
        )
        src.conn.commit()
    finally:
        src.close()
    return before


# --- the floor ---------------------------------------------------------------------------


def run_floor(
    db: str, dataset: str, tenant_id: int, tz: zoneinfo.ZoneInfo, *, orjson_route: bool = False
) -> dict[str, Any]:
    """One in-process export; returns seconds, bytes and the sha256 of the bytes. The floor
    takes the database's route; with `orjson_route`, the records are rendered by orjson
    instead (the slower route on both databases, timed as a reference)."""
    digest = hashlib.sha256()
    size = 0
    # The floor's rows hold no reference cycles: the cyclic collector would only walk them.
    gc.disable()
    started = time.perf_counter()
    src = floor.Source(URLS[db])
    try:
        export = (floor.DATASETS if orjson_route else floor.IN_DATABASE)[dataset]
        for chunk in export(src, tenant_id, tz):
            size += len(chunk)
            digest.update(chunk)
    finally:
        src.close()
        seconds = time.perf_counter() - started
        gc.enable()
    return {"seconds": seconds, "bytes": size, "sha256": digest.hexdigest()}


def count_records(dataset: str, db: str, tenant_id: int) -> int:
    table = {"orders": "orders", "customers": "customers", "waitinglist": "waiting_list_entries"}
    src = floor.Source(URLS[db])
    try:
        return int(
            src.rows(f"SELECT count(*) FROM {table[dataset]} WHERE tenant_id = ?", tenant_id)[0][0]
        )
    finally:
        src.close()


# --- over HTTP ---------------------------------------------------------------------------


class Server:
    """`boxoffice serve` on a free port of 127.0.0.1, rate limits off, stopped on exit."""

    def __init__(self, db: str) -> None:
        self.port = free_port()
        self.log = Path(tempfile.gettempdir()) / f"boxoffice-bench-{self.port}.log"
        command = shutil.which("boxoffice", path=str(Path(sys.executable).parent))
        env = {
            **os.environ,
            "BOXOFFICE_DATABASE_URL": URLS[db],
            "BOXOFFICE_RATE_LIMIT_PER_MINUTE": "0",
            "BOXOFFICE_AUTH_FAILURE_LIMIT_PER_MINUTE": "0",
        }
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [command or "boxoffice", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.base = f"http://127.0.0.1:{self.port}/v1/{CLIENT}/peppered"

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def http_export(
    http: httpx.Client, url: str, key: str, headers: dict[str, str], body: dict[str, Any] | None
) -> dict[str, Any]:
    """POST one export and read it all; seconds, time to first byte, bytes on the wire,
    and the sha256 of the (decompressed) body."""
    digest = hashlib.sha256()
    wire = 0
    ttfb = None
    started = time.perf_counter()
    with http.stream("POST", url, json=body, headers={"Authorization": key, **headers}) as response:
        if response.status_code != 200:
            raise SystemExit(f"POST {url}: {response.status_code} {response.read()[:300]!r}")
        gzipped = response.headers.get("content-encoding") == "gzip"
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
        for chunk in response.iter_raw():
            if ttfb is None:
                ttfb = time.perf_counter() - started
            wire += len(chunk)
            digest.update(decoder.decompress(chunk) if decoder else chunk)
        if decoder:
            digest.update(decoder.flush())
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "ttfb": ttfb or seconds,
        "wire_bytes": wire,
        "sha256": digest.hexdigest(),
    }


def measure_http(
    db: str, key: str, tenant_id: int, tz: zoneinfo.ZoneInfo, runs: int, floors: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with Server(db) as server, httpx.Client(timeout=httpx.Timeout(900, connect=5)) as http:
        wait_until_up(http, f"{server.base}/export/clienttypes", key, server.process)
        for dataset in DATASETS:  # warm-up, so that lazy imports count as idle memory
            for headers in FORMATS.values():
                http_export(http, f"{server.base}/export/{dataset}", key, headers, {"limit": 10})
        time.sleep(1.0)
        sampler = RssSampler(server.process.pid, 0.02)
        idle = sampler.rss()
        out["idle_rss"] = idle
        for dataset in DATASETS:
            url = f"{server.base}/export/{dataset}"
            floor_hash = floors[dataset]["sha256"]
            for fmt in FORMATS:
                out[f"{dataset}/{fmt}"] = []
            # Side by side: each run measures the floor, then every format right after it,
            # so that each ratio compares two figures taken a few seconds apart.
            for _ in range(runs):
                floor_run = run_floor(db, dataset, tenant_id, tz)
                if floor_run["sha256"] != floor_hash:
                    raise SystemExit(f"{db} {dataset}: the floor's bytes differ between runs")
                floors[dataset]["seconds"].append(floor_run["seconds"])
                for fmt, headers in FORMATS.items():
                    idle_now = sampler.rss()
                    with RssSampler(server.process.pid, 0.02) as during:
                        result = http_export(http, url, key, headers, None)
                    if fmt != "ndjson" and result["sha256"] != floor_hash:
                        raise SystemExit(
                            f"{db} {dataset} {fmt}: the response differs from the floor's bytes"
                        )
                    result["idle_rss"] = idle_now
                    result["peak_rss"] = max(idle_now, during.peak)
                    result["floor_seconds"] = floor_run["seconds"]
                    out[f"{dataset}/{fmt}"].append(result)
            for fmt in FORMATS:
                samples = out[f"{dataset}/{fmt}"]
                log(
                    f"{db} {dataset} {fmt}: "
                    + ", ".join(f"{s['seconds']:.2f}s ({s['floor_seconds']:.2f}s)" for s in samples)
                )
        # incremental: 1,000 orders changed, then changedSince just before the change
        since = change_orders(db, tenant_id)
        since_text = (
            (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=since))
            .astimezone(tz)
            .isoformat(timespec="microseconds")
        )
        url = f"{server.base}/export/orders"
        latencies = []
        for _ in range(20):
            started = time.perf_counter()
            response = http.post(
                url, json={"changedSince": since_text}, headers={"Authorization": key}
            )
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"incremental: {response.status_code} {response.text[:300]}")
            records = len(orjson.loads(response.content))
        out["incremental"] = {"latencies": latencies, "records": records}
        log(
            f"{db} incremental: median {statistics.median(latencies) * 1000:.1f} ms,"
            f" {records} records"
        )
        out["sync"] = measure_sync(db, key, server, tenant_id)
    return out


def measure_sync(db: str, key: str, server: Server, tenant_id: int) -> dict[str, Any]:
    """A full `boxoffice sync` into a new SQLite copy, then an incremental one."""
    with tempfile.TemporaryDirectory() as tmp:
        target = f"sqlite:///{tmp}/copy.db"
        argv = (
            "sync", "--url", f"http://127.0.0.1:{server.port}", "--client", CLIENT,
            "--to", target, "--json", "--quiet", "--config", f"{tmp}/none.toml",
        )  # fmt: skip
        Path(f"{tmp}/none.toml").write_text("")  # no user configuration
        env = {"BOXOFFICE_SYNC_KEY": key}
        result: dict[str, Any] = {}
        for phase in ("full", "incremental"):
            if phase == "incremental":
                change_orders(db, tenant_id)
            started = time.perf_counter()
            done = boxoffice(*argv, env=env, capture_output=True)
            seconds = time.perf_counter() - started
            if done.returncode != 0:
                raise SystemExit(f"sync {phase}: {done.returncode} {done.stderr.decode()[-2000:]}")
            summary = json.loads(done.stdout)
            records = sum(s.get("records", 0) for s in summary["streams"].values())
            result[phase] = {"seconds": seconds, "records": records}
            log(f"{db} sync {phase}: {records} records in {seconds:.1f} s")
    return result


# --- the whole run -----------------------------------------------------------------------


def bench_database(db: str, runs: int) -> dict[str, Any]:
    key = ensure_dataset(db)
    tenant_id, tz = tenant_of(db)
    floors: dict[str, Any] = {}
    for dataset in DATASETS:
        # The bytes every response is checked against; its time (a warm-up) is not counted:
        # the timed floor runs alternate with the HTTP runs (measure_http).
        first = run_floor(db, dataset, tenant_id, tz)
        floors[dataset] = {
            "records": count_records(dataset, db, tenant_id),
            "bytes": first["bytes"],
            "sha256": first["sha256"],
            "seconds": [],
        }
        log(f"{db} floor {dataset}: {first['bytes']:,} bytes in {first['seconds']:.2f}s")
        # The floor takes the database's route, the faster one: timed here once side by
        # side with the orjson route, which must give the same bytes.
        routes = {
            "database": run_floor(db, dataset, tenant_id, tz),
            "orjson": run_floor(db, dataset, tenant_id, tz, orjson_route=True),
        }
        if routes["orjson"]["sha256"] != first["sha256"]:
            raise SystemExit(f"{db} {dataset}: the two floor routes give different bytes")
        floors[dataset]["routes"] = {name: run["seconds"] for name, run in routes.items()}
        log(f"{db} floor {dataset} by route: {floors[dataset]['routes']}")
    http = measure_http(db, key, tenant_id, tz, runs, floors)
    return {"floor": floors, "http": http, "timezone": str(tz)}


def machine() -> dict[str, Any]:
    pg = psycopg.connect(PG_ADMIN)
    try:
        pg_version = pg.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    finally:
        pg.close()
    return {
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 1024**3, 1),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg_version,
        "os": platform.platform(),
    }


def summarize(db: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the table: one per export and format, plus incremental and sync."""
    rows = []
    floors = result["floor"]
    http = result["http"]
    for dataset in DATASETS:
        f = floors[dataset]
        floor_s = statistics.median(f["seconds"])
        rows.append({
            "db": db, "what": f"{dataset} floor", "records": f["records"],
            "rec_s": f["records"] / floor_s, "mb_s": f["bytes"] / MB / floor_s,
            "seconds": floor_s, "ratio": 1.0, "ttfb": None, "peak_over_idle": None,
        })  # fmt: skip
        if "routes" in f:
            # The floor's other route, timed once next to the database's: its ratio to it.
            python_s = f["routes"]["orjson"]
            rows.append({
                "db": db, "what": f"{dataset} floor, orjson route", "records": f["records"],
                "rec_s": f["records"] / python_s, "mb_s": f["bytes"] / MB / python_s,
                "seconds": python_s, "ratio": f["routes"]["database"] / python_s,
                "ttfb": None, "peak_over_idle": None,
            })  # fmt: skip
        for fmt in FORMATS:
            samples = http[f"{dataset}/{fmt}"]
            seconds = statistics.median(s["seconds"] for s in samples)
            rows.append({
                "db": db, "what": f"{dataset} {fmt}", "records": f["records"],
                "rec_s": f["records"] / seconds,
                "mb_s": statistics.median(s["wire_bytes"] for s in samples) / MB / seconds,
                "seconds": seconds,
                "ratio": statistics.median(s["floor_seconds"] / s["seconds"] for s in samples),
                "ttfb": statistics.median(s["ttfb"] for s in samples),
                "peak_over_idle": max(s["peak_rss"] - s["idle_rss"] for s in samples) / MIB,
            })  # fmt: skip
    full = statistics.median(s["seconds"] for s in http["orders/json"])
    inc = statistics.median(http["incremental"]["latencies"])
    rows.append({
        "db": db, "what": "orders changedSince (1,000 changed)",
        "records": http["incremental"]["records"], "rec_s": None, "mb_s": None,
        "seconds": inc, "ratio": None, "ttfb": None, "peak_over_idle": None,
        "of_full": inc / full,
    })  # fmt: skip
    total = sum(floors[d]["records"] for d in DATASETS)
    floor_total = sum(statistics.median(floors[d]["seconds"]) for d in DATASETS)
    for phase in ("full", "incremental"):
        s = http["sync"][phase]
        rows.append({
            "db": db, "what": f"sync {phase} -> SQLite", "records": s["records"],
            "rec_s": s["records"] / s["seconds"], "mb_s": None, "seconds": s["seconds"],
            "ratio": (s["records"] / s["seconds"]) / (total / floor_total)
            if phase == "full" else None,
            "ttfb": None, "peak_over_idle": None,
        })  # fmt: skip
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    def num(value: float | None, fmt: str) -> str:
        return "" if value is None else format(value, fmt)

    lines = [
        "| db | export | records | seconds | records/s | MB/s | ratio to floor | TTFB s |"
        " peak RSS over idle MiB |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        ratio = num(r["ratio"], ".2f")
        if "of_full" in r:
            ratio = f"{r['of_full'] * 100:.2f}% of full"
        lines.append(
            f"| {r['db']} | {r['what']} | {r['records']:,} | {r['seconds']:.3f} |"
            f" {num(r['rec_s'], ',.0f')} | {num(r['mb_s'], '.1f')} | {ratio} |"
            f" {num(r['ttfb'], '.3f')} | {num(r['peak_over_idle'], '.1f')} |"
        )
    return "\n".join(lines)


def chart(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r["ratio"] is not None and "floor" not in r["what"]]
    dbs = sorted({r["db"] for r in shown}, reverse=True)
    labels = [r["what"] for r in shown if r["db"] == dbs[0]]
    fig, ax = plt.subplots(figsize=(10, 0.35 * len(labels) + 1.5))
    height = 0.8 / len(dbs)
    for i, db in enumerate(dbs):
        ratios = {r["what"]: r["ratio"] for r in shown if r["db"] == db}
        ax.barh(
            [j + i * height for j in range(len(labels))],
            [ratios.get(label, 0) for label in labels],
            height=height,
            label=db,
        )
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.axvline(0.8, color="grey", linestyle="--", linewidth=0.8)
    ax.set_yticks([j + height * (len(dbs) - 1) / 2 for j in range(len(labels))], labels)
    ax.invert_yaxis()
    ax.set_xlabel("throughput / floor throughput (records/s, same run; 1.0 = floor)")
    ax.set_title("Boxoffice exports over HTTP vs the in-process floor (median of runs)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--chart", type=Path, help="also draw the ratio chart (PNG) here")
    args = parser.parse_args()
    started = time.perf_counter()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    results: dict[str, Any] = {"started": stamp, "runs": args.runs, "machine": machine()}
    rows: list[dict[str, Any]] = []
    for db in args.databases.split(","):
        results[db] = bench_database(db, args.runs)
        rows += summarize(db, results[db])
    results["rows"] = rows
    results["seconds"] = time.perf_counter() - started
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench-{stamp}.json"
    out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    if args.chart:
        chart(rows, args.chart)
    m = results["machine"]
    print(
        f"Boxoffice bench {stamp}: {m['cores']} cores, {m['ram_gib']} GiB, Python {m['python']},"
        f" SQLite {m['sqlite']}, PostgreSQL {m['postgresql']}; median of {args.runs} runs;"
        f" {results['seconds']:.0f} s in all\n"
    )
    print(table(rows))
    print(f"\n(results: {out.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
