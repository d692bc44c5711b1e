"""Reference mode (extensions off): only what the reference API does, for testing sync clients."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.builders import at, building
from tests.conftest import Client
from tests.exports.conftest import MakeHttp, ids, post_export

DATASETS = ["customers", "orders", "waitinglist"]


@pytest.fixture
def reference(make_http: MakeHttp) -> TestClient:
    return make_http(extensions=False)


@pytest.mark.parametrize("dataset", DATASETS)
def test_a_plain_json_array_without_sync_headers(
    reference: TestClient, engine: Engine, client: Client, dataset: str
) -> None:
    with building(engine, client.tenant.id) as b:
        people = b.many_customers(1200, changed_at=at("2026-03-01T10:00:00+01:00"))
        for person in people[:300]:
            b.order(changed_at=at("2026-03-01T10:00:00+01:00"), customer_id=person)
            b.waiting(customer_id=person, changed_at=at("2026-03-01T10:00:00+01:00"))
    headers = {"Accept": "application/x-ndjson", "Accept-Encoding": "gzip"}
    with reference.stream(
        "POST", f"{client.base}/export/{dataset}", headers={**client.auth, **headers}
    ) as response:
        raw = b"".join(response.iter_raw())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "content-encoding" not in response.headers
    for header in ("x-sync-watermark", "x-next-cursor"):
        assert header not in response.headers
    assert raw.startswith(b"[{") and raw.endswith(b"}]")


@pytest.mark.parametrize("field", ["changedUntil", "limit", "cursor"])
def test_extension_fields_are_unknown(reference: TestClient, client: Client, field: str) -> None:
    value = {"changedUntil": "2026-01-01", "limit": 10, "cursor": "x" * 67}[field]
    response = post_export(reference, client, "orders", {field: value})
    assert response.status_code == 422
    assert response.json()["errors"] == {field: [f"The {field} field is not allowed."]}


def test_changed_since_still_works(reference: TestClient, engine: Engine, client: Client) -> None:
    with building(engine, client.tenant.id) as b:
        _old = b.customer(changed_at=at("2026-01-31T23:59:59.999999+01:00"))
        new = b.customer(changed_at=at("2026-02-01T00:00:00+01:00"))
    response = post_export(reference, client, "customers", {"changedSince": "2026-02-01"})
    assert ids(response, "customerId") == [new]


def test_a_cursor_from_the_extended_server_is_refused(
    reference: TestClient, http: TestClient, engine: Engine, client: Client
) -> None:
    with building(engine, client.tenant.id) as b:
        b.many_customers(3, changed_at=at("2026-02-01T00:00:00+01:00"))
    cursor = post_export(http, client, "customers", {"limit": 1}).headers["x-next-cursor"]
    response = post_export(reference, client, "customers", {"cursor": cursor})
    assert response.status_code == 422
