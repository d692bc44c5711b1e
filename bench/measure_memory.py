"""Measures the server's memory while it streams a whole export: flat, whatever the size.

Starts `boxoffice serve` on a free 127.0.0.1 port against BOXOFFICE_DATABASE_URL, samples the
server's RSS (with psutil, every 20 ms) while idle and while a full POST /export/<dataset>
of one client streams to /dev/null through httpx, once per format, and prints idle RSS,
peak RSS, their difference, how much the peak of the export's second half exceeds that of
its first half (about zero when memory is flat), the records and the bytes.

    # a client made by `boxoffice demo --client demo --scale large`, whose key was printed:
    BOXOFFICE_DATABASE_URL=sqlite:///./boxoffice.db \\
        uv run python bench/measure_memory.py --client demo --key "$KEY"

    # or let it make a client of its own with N orders (direct inserts, tests/builders.py):
    uv run python bench/measure_memory.py --fill-orders 300000
"""

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import psutil

ROOT = Path(__file__).resolve().parents[1]
FIRST_KEY = {
    "orders": b'{"orderId":',
    "customers": b'{"customerId":',
    "waitinglist": b'{"waitingId":',
}
FORMATS = {
    "json": {"Accept": "application/json", "Accept-Encoding": "identity"},
    "ndjson": {"Accept": "application/x-ndjson", "Accept-Encoding": "identity"},
    "json+gzip": {"Accept": "application/json", "Accept-Encoding": "gzip"},
}


@dataclass
class Result:
    format: str
    records: int
    bytes: int
    seconds: float
    idle_rss: int
    peak_rss: int
    # The peak over the export's first half of time and over its second half: equal when
    # memory is flat, larger in the second half if it grew with the records sent.
    first_half_peak: int
    second_half_peak: int


class RssSampler:
    """Samples the RSS of a process (and any children) in a thread, keeping the maximum."""

    def __init__(self, pid: int, interval: float) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        processes = [self.process, *self.process.children(recursive=True)]
        total = 0
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):  # a child may just have exited
                total += process.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = self.rss()
            self.peak = max(self.peak, rss)
            self.samples.append((time.monotonic(), rss))
            self._stop.wait(self.interval)

    def halves(self) -> tuple[int, int]:
        """The peak RSS in the first and in the second half of the sampled time."""
        if not self.samples:
            return self.peak, self.peak
        middle = (self.samples[0][0] + self.samples[-1][0]) / 2
        first = [rss for at, rss in self.samples if at <= middle]
        second = [rss for at, rss in self.samples if at > middle] or first
        return max(first), max(second)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(database_url: str, port: int) -> subprocess.Popen[bytes]:
    """`boxoffice serve` of this environment, logging to a file rather than our terminal."""
    command = shutil.which("boxoffice", path=str(Path(sys.executable).parent))
    argv = [command] if command else [sys.executable, "-m", "boxoffice.cli"]
    env = {**os.environ, "BOXOFFICE_DATABASE_URL": database_url}
    log_path = Path(tempfile.gettempdir()) / f"boxoffice-bench-{port}.log"
    log = log_path.open("wb")
    return subprocess.Popen(
        [*argv, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_until_up(http: httpx.Client, url: str, key: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode}")
        try:
            response = http.get(url, headers={"Authorization": key})
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: {response.status_code} {response.text[:200]}")
        return
    raise SystemExit("the server did not come up within 60 s")


def stream_export(
    http: httpx.Client, url: str, key: str, headers: dict[str, str], first_key: bytes
) -> tuple[int, int]:
    """POST the export and stream the body to /dev/null; returns (records, bytes on the wire)."""
    records = size = 0
    tail = b""
    with (
        open(os.devnull, "wb") as sink,
        http.stream("POST", url, headers={"Authorization": key, **headers}) as response,
    ):
        if response.status_code != 200:
            raise SystemExit(f"POST {url}: {response.status_code} {response.read()[:200]!r}")
        if response.headers.get("content-encoding") == "gzip":
            for chunk in response.iter_raw():
                size += len(chunk)
                sink.write(chunk)
            return -1, size  # records are not counted inside the compressed stream
        for chunk in response.iter_raw():
            size += len(chunk)
            sink.write(chunk)
            # A record's first key can straddle two chunks: keep the end of the last one.
            window = tail + chunk
            records += window.count(first_key)
            tail = window[-(len(first_key) - 1) :]
    return records, size


def fill(database_url: str, orders: int) -> tuple[str, str]:
    """A new client with `orders` orders (two seats each) and a customer per four orders."""
    sys.path.insert(0, str(ROOT))
    from tests.builders import Builder, Seat

    from boxoffice.server.db.engine import make_engine
    from boxoffice.server.db.migrate import upgrade
    from boxoffice.server.db.transactions import write_transaction
    from boxoffice.server.tenancy.service import create_tenant
    from boxoffice.server.values.clock import now_micros

    engine = make_engine(database_url)
    upgrade(engine)
    name = f"bench-{int(time.time())}"
    with write_transaction(engine) as tx:
        tenant, key = create_tenant(tx.conn, name=name, timezone="Europe/Amsterdam", now=tx.now)
    stamp = now_micros() - 86_400_000_000
    seats = [Seat(row_nr=4, seat_nr=11, hall_seat_id=1), Seat(amount_cents=1950)]
    with write_transaction(engine) as tx:
        Builder(tx.conn, tenant.id).client_types("friend", "vip")
    for start in range(0, orders, 20_000):
        count = min(20_000, orders - start)
        with write_transaction(engine) as tx:
            b = Builder(tx.conn, tenant.id)
            people = b.many_customers(max(1, count // 4), changed_at=stamp + start)
            b.many_orders(count, changed_at=stamp + start, customer_ids=people, seats=seats)
        print(f"  filled {start + count} orders", file=sys.stderr)
    engine.dispose()
    return name, key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BOXOFFICE_DATABASE_URL", "sqlite:///./boxoffice.db"),
    )
    parser.add_argument("--client", help="the client to export (with --key)")
    parser.add_argument("--key", default=os.environ.get("BOXOFFICE_BENCH_KEY"), help="its API key")
    parser.add_argument("--fill-orders", type=int, help="make a client with this many orders")
    parser.add_argument("--dataset", default="orders", choices=sorted(FIRST_KEY))
    parser.add_argument("--formats", nargs="+", default=["json", "ndjson"], choices=list(FORMATS))
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between samples")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    if args.fill_orders:
        args.client, args.key = fill(args.database_url, args.fill_orders)
    if not args.client or not args.key:
        parser.error("give --client and --key, or --fill-orders N")

    port = free_port()
    base = f"http://127.0.0.1:{port}/v1/{args.client}/peppered"
    server = start_server(args.database_url, port)
    results = []
    try:
        with httpx.Client(timeout=httpx.Timeout(600, connect=5)) as http:
            wait_until_up(http, f"{base}/export/clienttypes", args.key, server)
            export_url = f"{base}/export/{args.dataset}"
            # Warm up both formats on a tiny page, so that lazy imports and caches count as
            # idle memory, not as memory of the export.
            for headers in FORMATS.values():
                with http.stream(
                    "POST",
                    export_url,
                    json={"limit": 1},
                    headers={"Authorization": args.key, **headers},
                ) as response:
                    response.read()
            sampler = RssSampler(server.pid, args.interval)
            for name in args.formats:
                time.sleep(1.0)
                idle = sampler.rss()
                with RssSampler(server.pid, args.interval) as during:
                    started = time.perf_counter()
                    records, size = stream_export(
                        http, export_url, args.key, FORMATS[name], FIRST_KEY[args.dataset]
                    )
                    seconds = time.perf_counter() - started
                first_half, second_half = during.halves()
                peak = max(idle, during.peak)
                results.append(
                    Result(name, records, size, seconds, idle, peak, first_half, second_half)
                )
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()

    if args.json:
        print(orjson.dumps([r.__dict__ for r in results], option=orjson.OPT_INDENT_2).decode())
        return
    mib = 1024 * 1024
    print(f"{args.dataset} of {args.client} on {args.database_url.split(':', 1)[0]}")
    header = (
        "format",
        "idle MiB",
        "peak MiB",
        "delta MiB",
        "2nd half",
        "records",
        "MiB sent",
        "seconds",
    )
    print(f"{header[0]:<10} " + " ".join(f"{h:>9}" for h in header[1:]))
    for r in results:
        print(
            f"{r.format:<10} {r.idle_rss / mib:>9.1f} {r.peak_rss / mib:>9.1f} "
            f"{(r.peak_rss - r.idle_rss) / mib:>9.1f} "
            f"{(r.second_half_peak - r.first_half_peak) / mib:>+9.1f} "
            f"{r.records if r.records >= 0 else '-':>9} "
            f"{r.bytes / mib:>9.1f} {r.seconds:>9.1f}"
        )


if __name__ == "__main__":
    main()
