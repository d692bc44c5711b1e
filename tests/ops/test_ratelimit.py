"""Rate limits: a request budget per key, a failed-authentication budget per address."""

import time

from sqlalchemy import Engine

from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.ops.ratelimit import Budget
from boxoffice.server.tenancy.service import create_key
from tests.conftest import Client
from tests.ops.conftest import Connect, MakeApp, sample

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


def test_a_key_gets_its_budget_then_429(
    make_app: MakeApp, connect: Connect, client: Client
) -> None:
    http = connect(make_app(rate_limit_per_minute=3))
    for remaining in (2, 1, 0):
        response = http.get(client.base + PATH, headers=client.auth)
        assert response.status_code == 200, response.text
        assert response.headers["ratelimit-limit"] == "3"
        assert response.headers["ratelimit-remaining"] == str(remaining)
        assert 1 <= int(response.headers["ratelimit-reset"]) <= 60
        assert "retry-after" not in response.headers
    assert_too_many(http.get(client.base + PATH, headers=client.auth), 3)


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


def test_a_budget_grows_back_when_its_window_passes() -> None:
    budget = Budget(2, period_seconds=1)
    assert budget.hit("a").allowed
    assert budget.hit("a").allowed
    refused = budget.hit("a")
    assert not refused.allowed
    assert not budget.check("a").allowed
    assert budget.check("b").allowed
    # Wait as a well-behaved client does: Retry-After seconds.
    time.sleep(refused.reset_seconds + 0.05)
    assert budget.hit("a").allowed
