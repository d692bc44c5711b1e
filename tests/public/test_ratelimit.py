"""The public API's per-address limit: leased from the database, so every worker shares it."""

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from boxoffice.server.app import create_app
from boxoffice.server.config import Settings
from boxoffice.server.db.engine import make_engine
from boxoffice.server.ops.tables import rate_limit_windows
from boxoffice.server.values.clock import Clock, now_micros
from tests.conftest import Client
from tests.ops.conftest import ManualClock
from tests.ops.server import serve
from tests.public.conftest import public

# A window far longer than any test run, so that no window boundary falls inside a test.
LONG_WINDOW = 10**9


def worker(
    database_url: str, limit: int, window: int = LONG_WINDOW, clock: Clock = now_micros
) -> FastAPI:
    """One server process's app: its own engine (connection pool) on the shared database."""
    settings = Settings(
        database_url=database_url,
        public_rate_limit_requests=limit,
        public_rate_limit_window_seconds=window,
        rate_limit_per_minute=0,
        auth_failure_limit_per_minute=0,
    )
    return create_app(settings, engine=make_engine(database_url), clock=clock)


@pytest.fixture
def workers(database_url: str) -> Iterator[tuple[FastAPI, FastAPI]]:
    apps = (worker(database_url, 5), worker(database_url, 5))
    yield apps
    for app in apps:
        app.state.engine.dispose()


def address() -> tuple[str, int]:
    """An address of its own per test: counts of other tests never mix in."""
    return (f"198.51.100.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:8]}", 40000)


def test_two_workers_share_one_budget_per_address(
    workers: tuple[FastAPI, FastAPI], venue: Client
) -> None:
    me, someone_else = address(), address()
    first, second = (TestClient(app, base_url="http://127.0.0.1", client=me) for app in workers)
    statuses = []
    for http in (first, second, first, second, first):
        response = http.get(f"{public(venue)}/events")
        statuses.append(response.status_code)
        assert int(response.headers["ratelimit-limit"]) == 5
    assert statuses == [200] * 5
    for http in (second, first):
        refused = http.get(f"{public(venue)}/locations")
        assert refused.status_code == 429
        assert refused.json() == {"message": "Too many requests."}
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["access-control-allow-origin"] == "*"
    # Another address has its own budget; the Peppered API is not limited per address.
    other = TestClient(workers[1], base_url="http://127.0.0.1", client=someone_else)
    assert other.get(f"{public(venue)}/events").status_code == 200
    assert first.get(f"{venue.base}/event", headers=venue.auth).status_code == 200


def test_concurrent_requests_through_two_workers_are_counted_exactly(
    database_url: str, venue: Client
) -> None:
    limit, threads, each = 25, 8, 5
    apps = [worker(database_url, limit), worker(database_url, limit)]
    me, warm_up = address(), address()
    for app in apps:
        # One request first, from another address: FastAPI builds a route's response
        # validation on first use, which is not safe to race (not what is tested here).
        TestClient(app, base_url="http://127.0.0.1", client=warm_up).get(
            f"{public(venue)}/eventtypes"
        )
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def hammer(app: FastAPI) -> None:
        http = TestClient(app, base_url="http://127.0.0.1", client=me)
        for _ in range(each):
            status = http.get(f"{public(venue)}/eventtypes").status_code
            with lock:
                statuses[status] += 1

    running = [threading.Thread(target=hammer, args=(apps[n % 2],)) for n in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    for app in apps:
        app.state.engine.dispose()
    assert statuses == {200: limit, 429: threads * each - limit}


def test_a_new_window_starts_afresh_and_old_windows_are_deleted(
    database_url: str, engine: Engine, venue: Client
) -> None:
    clock = ManualClock(1_000_000_040.5)  # 39.5 seconds before its minute ends
    app = worker(database_url, 2, window=60, clock=clock)
    me = address()
    http = TestClient(app, base_url="http://127.0.0.1", client=me)
    statuses = [http.get(f"{public(venue)}/eventtypes").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    clock.advance(2)
    refused = http.get(f"{public(venue)}/eventtypes")
    assert refused.headers["retry-after"] == refused.headers["ratelimit-reset"] == "38"
    clock.advance(60)
    later = http.get(f"{public(venue)}/eventtypes")
    assert later.status_code == 200
    assert later.headers["ratelimit-remaining"] == "1"
    with engine.connect() as conn:
        windows = conn.execute(
            select(rate_limit_windows.c.window_end_at).where(rate_limit_windows.c.identity == me[0])
        ).all()
    # The ended window's row was deleted when the new window opened.
    assert [row[0] > clock() for row in windows] == [True]
    app.state.engine.dispose()


def test_the_limit_is_off_with_zero(http: TestClient, venue: Client) -> None:
    # The shared test app runs with public_rate_limit_requests=0: no headers, no counting.
    response = http.get(f"{public(venue)}/events")
    assert response.status_code == 200
    assert "ratelimit-limit" not in response.headers


def test_the_workers_of_one_real_server_share_the_budget(
    database_url: str, tmp_path: Path, venue: Client
) -> None:
    limit, requests = 10, 30
    with serve(
        database_url,
        tmp_path,
        "--workers",
        "2",
        BOXOFFICE_PUBLIC_RATE_LIMIT_REQUESTS=str(limit),
        BOXOFFICE_PUBLIC_RATE_LIMIT_WINDOW_SECONDS=str(LONG_WINDOW),
    ) as server:
        statuses: Counter[int] = Counter()
        for _ in range(requests):
            # A connection each, so that both worker processes take some.
            response = httpx.get(
                server.url(f"{public(venue)}/eventtypes"), headers={"Connection": "close"}
            )
            statuses[response.status_code] += 1
        assert statuses == {200: limit, 429: requests - limit}
