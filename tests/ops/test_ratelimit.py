"""Rate limits: a request budget per key (shared by workers), a failed-authentication
budget per address (per worker)."""

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from boxoffice import cli
from boxoffice.server.app import create_app
from boxoffice.server.config import Settings
from boxoffice.server.db.engine import make_engine
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.errors import InvalidInput
from boxoffice.server.ops.budgets import Budget, lease_size
from boxoffice.server.tenancy.service import create_key, revoke_key, set_key_rate_limit
from tests.conftest import Client
from tests.ops.conftest import Connect, MakeApp, ManualClock, sample
from tests.ops.server import serve

PATH = "/export/clienttypes"
WRONG_KEY = "bo_00000000_" + "x" * 40


def assert_too_many(response, limit: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.text
    assert response.json() == {"message": "Too many requests."}
    assert response.headers["ratelimit-limit"] == str(limit)
    assert response.headers["ratelimit-remaining"] == "0"
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert response.headers["ratelimit-reset"] == str(retry_after)


def prefix_of(client: Client) -> str:
    return client.key.split("_")[1]


def test_a_key_gets_its_budget_then_429(
    make_app: MakeApp, connect: Connect, client: Client
) -> None:
    clock = ManualClock()  # 39.5 seconds before its minute ends
    http = connect(make_app(rate_limit_per_minute=3, clock=clock))
    for remaining in (2, 1, 0):
        response = http.get(client.base + PATH, headers=client.auth)
        assert response.status_code == 200, response.text
        assert response.headers["ratelimit-limit"] == "3"
        assert response.headers["ratelimit-remaining"] == str(remaining)
        assert response.headers["ratelimit-reset"] == "40"
        assert "retry-after" not in response.headers
    refused = http.get(client.base + PATH, headers=client.auth)
    assert_too_many(refused, 3)
    assert refused.headers["retry-after"] == "40"
    # The next minute has a full budget.
    clock.advance(40)
    response = http.get(client.base + PATH, headers=client.auth)
    assert response.status_code == 200
    assert response.headers["ratelimit-remaining"] == "2"
    assert response.headers["ratelimit-reset"] == "60"


def test_a_key_limit_set_with_the_cli_takes_effect(
    make_app: MakeApp,
    connect: Connect,
    engine: Engine,
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cli, "_engine", lambda: engine)
    monkeypatch.setenv("BOXOFFICE_RATE_LIMIT_PER_MINUTE", "3")
    cli.get_settings.cache_clear()
    runner = CliRunner()
    clock = ManualClock()
    http = connect(make_app(rate_limit_per_minute=3, clock=clock))
    prefix = prefix_of(client)
    try:
        said = runner.invoke(
            cli.app, ["key", "limit", client.name, f"bo_{prefix}", "--per-minute", "5"]
        )
        assert said.exit_code == 0, said.output
        assert f"rate limit of key bo_{prefix}_… of {client.name}: 5 a minute" in said.output
        listed = runner.invoke(cli.app, ["key", "list", client.name])
        assert "5 a minute" in listed.output
        statuses = [http.get(client.base + PATH, headers=client.auth).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        # Back to the default: 3 a minute.
        said = runner.invoke(cli.app, ["key", "limit", client.name, prefix, "--default"])
        assert said.exit_code == 0, said.output
        assert "3 a minute (default)" in runner.invoke(cli.app, ["key", "list", client.name]).output
        clock.advance(60)
        statuses = [http.get(client.base + PATH, headers=client.auth).status_code for _ in range(4)]
        assert statuses == [200] * 3 + [429]
        # 0: no limit for this key, and no headers.
        runner.invoke(cli.app, ["key", "limit", client.name, prefix, "--per-minute", "0"])
        response = http.get(client.base + PATH, headers=client.auth)
        assert response.status_code == 200
        assert "ratelimit-limit" not in response.headers
        # A new key with a limit of its own.
        said = runner.invoke(cli.app, ["key", "create", client.name, "--per-minute", "1"])
        assert said.exit_code == 0, said.output
        new_key = said.output.strip().splitlines()[-1]
        assert http.get(client.base + PATH, headers={"Authorization": new_key}).status_code == 200
        assert_too_many(http.get(client.base + PATH, headers={"Authorization": new_key}), 1)
    finally:
        cli.get_settings.cache_clear()


def test_the_cli_refuses_a_bad_limit_and_an_unknown_key(
    engine: Engine, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_engine", lambda: engine)
    runner = CliRunner()
    prefix = prefix_of(client)
    for args, message in (
        ([prefix], "give either --per-minute N or --default"),
        ([prefix, "--per-minute", "5", "--default"], "give either --per-minute N or --default"),
        (["00000000", "--per-minute", "5"], "Active key not found"),
    ):
        said = runner.invoke(cli.app, ["key", "limit", client.name, *args])
        assert said.exit_code == 2
        assert message in said.output
    assert (
        runner.invoke(
            cli.app, ["key", "limit", client.name, prefix, "--per-minute", "-1"]
        ).exit_code
        == 2
    )
    assert (
        runner.invoke(cli.app, ["key", "limit", "no-such-client", prefix, "--default"]).exit_code
        == 2
    )
    with write_transaction(engine) as tx, pytest.raises(InvalidInput, match="rate limit"):
        set_key_rate_limit(tx.conn, tenant_id=client.tenant.id, prefix=prefix, per_minute=10**9)


def test_a_new_clients_first_key_gets_its_limit_from_tenant_create(
    make_app: MakeApp, connect: Connect, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_engine", lambda: engine)
    runner = CliRunner()
    name = f"limited-{uuid.uuid4().hex[:8]}"
    refused = runner.invoke(cli.app, ["tenant", "create", name, "--per-minute", "-1"])
    assert refused.exit_code == 2
    too_high = runner.invoke(cli.app, ["tenant", "create", name, "--per-minute", "1000000000"])
    assert too_high.exit_code == 2
    assert "rate limit" in too_high.output
    # Nothing was written by the refusals: the name is still free.
    said = runner.invoke(cli.app, ["tenant", "create", name, "--per-minute", "2"])
    assert said.exit_code == 0, said.output
    key = said.output.strip().splitlines()[-1]
    assert "2 a minute" in runner.invoke(cli.app, ["key", "list", name]).output
    http = connect(make_app(rate_limit_per_minute=600, clock=ManualClock()))
    path = f"/v1/{name}/peppered{PATH}"
    statuses = [http.get(path, headers={"Authorization": key}).status_code for _ in range(2)]
    assert statuses == [200, 200]
    assert_too_many(http.get(path, headers={"Authorization": key}), 2)


def test_a_key_with_a_higher_limit_is_not_throttled_at_600_a_minute(
    make_app: MakeApp, connect: Connect, engine: Engine, client: Client
) -> None:
    with write_transaction(engine) as tx:
        set_key_rate_limit(
            tx.conn, tenant_id=client.tenant.id, prefix=prefix_of(client), per_minute=1000
        )
    http = connect(make_app(rate_limit_per_minute=600, clock=ManualClock()))
    statuses = Counter(
        http.get(client.base + PATH, headers=client.auth).status_code for _ in range(700)
    )
    assert statuses == {200: 700}
    response = http.get(client.base + PATH, headers=client.auth)
    assert response.headers["ratelimit-limit"] == "1000"
    assert response.headers["ratelimit-remaining"] == "299"


def test_a_revoked_key_is_refused_at_once_though_its_slice_is_unspent(
    make_app: MakeApp, connect: Connect, engine: Engine, client: Client
) -> None:
    http = connect(make_app(rate_limit_per_minute=1000, clock=ManualClock()))
    assert http.get(client.base + PATH, headers=client.auth).status_code == 200
    with write_transaction(engine) as tx:
        revoke_key(tx.conn, tenant_id=client.tenant.id, prefix=prefix_of(client), now=tx.now)
    assert http.get(client.base + PATH, headers=client.auth).status_code == 401


def test_a_spent_key_budget_is_no_authentication_failure(
    make_app: MakeApp, connect: Connect, client: Client, other_client: Client
) -> None:
    app = make_app(rate_limit_per_minute=1, auth_failure_limit_per_minute=2, clock=ManualClock())
    http = connect(app)
    statuses = [http.get(client.base + PATH, headers=client.auth).status_code for _ in range(5)]
    assert statuses == [200] + [429] * 4
    # Four 429s, no 401: the address may still use another key, and still fail twice.
    assert http.get(other_client.base + PATH, headers=other_client.auth).status_code == 200
    for _ in range(2):
        assert http.get(client.base + PATH, headers={"Authorization": WRONG_KEY}).status_code == 401
    assert_too_many(http.get(other_client.base + PATH, headers=other_client.auth), 2)


@pytest.fixture
def two_workers(database_url: str) -> Iterator[list[FastAPI]]:
    """Two server processes' apps: each its own engine (connection pool) on one database."""
    clock = ManualClock()
    settings = Settings(
        database_url=database_url,
        rate_limit_per_minute=200,
        auth_failure_limit_per_minute=0,
        public_rate_limit_requests=0,
    )
    apps = [create_app(settings, engine=make_engine(database_url), clock=clock) for _ in range(2)]
    yield apps
    for app in apps:
        app.state.engine.dispose()


def test_two_workers_with_many_threads_admit_a_key_at_most_its_limit(
    two_workers: list[FastAPI], client: Client
) -> None:
    limit, threads, each = 200, 8, 40
    for app in two_workers:
        # FastAPI builds a route's response validation on first use, which is not safe to
        # race (not what is tested here); the warm-up spends 2 of the budget.
        TestClient(app, base_url="http://127.0.0.1").get(client.base + PATH, headers=client.auth)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def hammer(app: FastAPI) -> None:
        http = TestClient(app, base_url="http://127.0.0.1")
        for _ in range(each):
            status = http.get(client.base + PATH, headers=client.auth).status_code
            with lock:
                statuses[status] += 1

    running = [threading.Thread(target=hammer, args=(two_workers[n % 2],)) for n in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    assert set(statuses) == {200, 429}
    admitted = statuses[200] + 2
    # At most the limit; at least the limit less what the other worker may hold unspent.
    assert limit - (lease_size(limit) - 1) <= admitted <= limit


def test_budgets_are_per_key_and_unauthenticated_requests_spend_none(
    make_app: MakeApp, connect: Connect, engine: Engine, client: Client, other_client: Client
) -> None:
    http = connect(make_app(rate_limit_per_minute=2))
    with write_transaction(engine) as tx:
        second_key = create_key(tx.conn, tenant_id=client.tenant.id, now=tx.now)
    # Someone sending this client's key prefix with a wrong secret spends nothing of it.
    forged = client.key[:12] + "y" * 40
    for _ in range(5):
        assert http.get(client.base + PATH, headers={"Authorization": forged}).status_code == 401
    for _ in range(2):
        assert http.get(client.base + PATH, headers=client.auth).status_code == 200
    assert_too_many(http.get(client.base + PATH, headers=client.auth), 2)
    assert http.get(client.base + PATH, headers={"Authorization": second_key}).status_code == 200
    assert http.get(other_client.base + PATH, headers=other_client.auth).status_code == 200


def test_failed_authentication_blocks_the_address_even_for_a_correct_key(
    make_app: MakeApp, connect: Connect, client: Client
) -> None:
    app = make_app(auth_failure_limit_per_minute=3)
    attacker = connect(app, "198.51.100.7")
    bystander = connect(app, "198.51.100.8")
    for headers in ({}, {"Authorization": WRONG_KEY}, {"Authorization": client.key + "x"}):
        assert attacker.get(client.base + PATH, headers=headers).status_code == 401
    assert_too_many(attacker.get(client.base + PATH, headers=client.auth), 3)
    assert_too_many(attacker.get("/v1/no-such-client/peppered" + PATH), 3)
    # Other addresses, and everything outside the API, are untouched.
    assert bystander.get(client.base + PATH, headers=client.auth).status_code == 200
    assert attacker.get("/healthz").status_code == 200


def test_only_401s_count_as_failures(make_app: MakeApp, connect: Connect, client: Client) -> None:
    http = connect(make_app(auth_failure_limit_per_minute=2))
    for _ in range(5):
        assert http.get(client.base + "/customer/999999999", headers=client.auth).status_code == 404
        assert http.get("/no/such/page").status_code == 404
    assert http.get(client.base + PATH, headers=client.auth).status_code == 200


def test_limits_set_to_zero_are_off(make_app: MakeApp, connect: Connect, client: Client) -> None:
    http = connect(make_app(rate_limit_per_minute=0, auth_failure_limit_per_minute=0))
    for _ in range(30):
        assert http.get(client.base + PATH, headers={"Authorization": WRONG_KEY}).status_code == 401
    response = http.get(client.base + PATH, headers=client.auth)
    assert response.status_code == 200
    assert "ratelimit-limit" not in response.headers


def test_metrics_count_refusals_without_keys(
    make_app: MakeApp, connect: Connect, client: Client
) -> None:
    http = connect(make_app(rate_limit_per_minute=1, metrics=True))
    before = sample(http.get("/metrics").text, "boxoffice_rate_limited_total", limit="key")
    assert http.get(client.base + PATH, headers=client.auth).status_code == 200
    assert http.get(client.base + PATH, headers=client.auth).status_code == 429
    text = http.get("/metrics").text
    assert sample(text, "boxoffice_rate_limited_total", limit="key") - before == 1
    prefix = client.key.split("_")[1]
    assert client.key not in text
    assert prefix not in text
    assert client.name not in text


def test_the_failed_authentication_budget_grows_back_when_its_window_passes() -> None:
    budget = Budget(2, period_seconds=1)
    assert budget.hit("a").allowed
    assert budget.hit("a").allowed
    refused = budget.hit("a")
    assert not refused.allowed
    assert not budget.check("a").allowed
    assert not budget.allows("a")
    assert budget.check("b").allowed
    assert budget.allows("b")
    # Wait as a well-behaved client does: Retry-After seconds.
    time.sleep(refused.reset_seconds + 0.05)
    assert budget.hit("a").allowed


def test_the_workers_of_one_real_server_share_a_key_budget(
    database_url: str, engine: Engine, tmp_path: Path, client: Client
) -> None:
    limit, requests = 40, 130
    with write_transaction(engine) as tx:
        set_key_rate_limit(
            tx.conn, tenant_id=client.tenant.id, prefix=prefix_of(client), per_minute=limit
        )
    # The server's clock is the real one, and a minute may end during the run: each answer
    # is put in the minute it names (the end of its window: now + RateLimit-Reset, which
    # is a whole minute of Unix time however late the answer arrives, unless by a minute).
    minutes: dict[int, Counter[int]] = {}
    with serve(
        database_url, tmp_path, "--workers", "2", BOXOFFICE_RATE_LIMIT_PER_MINUTE="0"
    ) as server:
        for _ in range(requests):
            # A connection each, so that both worker processes take some.
            response = httpx.get(
                server.url(client.base + PATH), headers={**client.auth, "Connection": "close"}
            )
            assert response.headers["ratelimit-limit"] == str(limit)
            ends = time.time() + int(response.headers["ratelimit-reset"])
            minutes.setdefault(int(ends // 60), Counter())[response.status_code] += 1
    assert 1 <= len(minutes) <= 3
    for statuses in minutes.values():
        assert set(statuses) <= {200, 429}
        assert statuses[200] <= limit
        if statuses.total() >= limit + lease_size(limit):
            # Refused early by at most one worker's unspent slice.
            assert statuses[200] >= limit - (lease_size(limit) - 1)
            assert statuses[429] > 0
    # 130 requests in at most 3 minutes: at least one minute had 44, so was refused some.
    assert any(statuses[429] for statuses in minutes.values())
