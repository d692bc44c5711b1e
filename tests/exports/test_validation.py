"""Every invalid export body is a 422 in the contract's shape, naming the offending field."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Client
from tests.exports.conftest import MakeHttp, post_export

DATASETS = ["customers", "orders", "waitinglist"]

# Sent as raw bytes: not JSON objects, or numbers no JSON encoder would write.
INVALID_RAW_BODIES: list[tuple[bytes, str]] = [
    (b"{", "body"),
    (b'{"changedSince": "2026-01-01",}', "body"),
    (b"changedSince=2026-01-01", "body"),
    (b"\xff\xfe{}", "body"),
    (b'[{"changedSince": "2026-01-01"}]', "body"),
    (b'"2026-01-01"', "body"),
    (b"42", "body"),
    (b"true", "body"),
    (b'{"limit": 1e400}', "body"),
    (b'{"limit": NaN}', "body"),
    (b'{"limit": 1000000000000000000000000000000}', "limit"),
    (b'{"limit": 18446744073709551616}', "limit"),
]

INVALID_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"changedsince": "2026-01-01"}, "changedsince"),
    ({"since": "2026-01-01"}, "since"),
    ({"changedSince": 20260101}, "changedSince"),
    ({"changedSince": True}, "changedSince"),
    ({"changedSince": ["2026-01-01"]}, "changedSince"),
    ({"changedSince": ""}, "changedSince"),
    ({"changedSince": "yesterday"}, "changedSince"),
    ({"changedSince": "2026-13-01"}, "changedSince"),
    ({"changedSince": "2026-02-30"}, "changedSince"),
    ({"changedSince": "2026-01-01T25:00:00"}, "changedSince"),
    ({"changedSince": "2026-01-01T10:00:00+25:00"}, "changedSince"),
    ({"changedSince": "01-01-2026"}, "changedSince"),
    ({"changedSince": "2026-01-01T10:00:00.1234567Z"}, "changedSince"),
    ({"changedSince": "0001-01-01"}, "changedSince"),
    ({"changedUntil": "soon"}, "changedUntil"),
    ({"changedUntil": 5}, "changedUntil"),
    ({"changedSince": "2026-05-01", "changedUntil": "2026-04-01"}, "changedUntil"),
    ({"changedSince": "2026-05-01", "changedUntil": "2026-05-01"}, "changedUntil"),
    ({"limit": 0}, "limit"),
    ({"limit": -1}, "limit"),
    ({"limit": 100_001}, "limit"),
    ({"limit": "10.0"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"limit": 1.5}, "limit"),
    ({"limit": 10.0}, "limit"),
    ({"limit": True}, "limit"),
    ({"limit": [10]}, "limit"),
    ({"cursor": 5}, "cursor"),
    ({"cursor": ""}, "cursor"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": "A" * 67}, "cursor"),
    ({"cursor": {"position": 1}}, "cursor"),
]


def assert_invalid(response: Any, *fields: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"message", "errors"}
    assert isinstance(body["message"], str) and body["message"]
    assert set(body["errors"]) == set(fields)
    for problems in body["errors"].values():
        assert problems and all(isinstance(p, str) and p for p in problems)
    assert "X-Sync-Watermark" not in response.headers


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize(("content", "field"), INVALID_RAW_BODIES)
def test_an_invalid_raw_body(
    http: TestClient, client: Client, dataset: str, content: bytes, field: str
) -> None:
    response = http.post(f"{client.base}/export/{dataset}", content=content, headers=client.auth)
    assert_invalid(response, field)


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize(("body", "field"), INVALID_FIELDS)
def test_an_invalid_field(
    http: TestClient, client: Client, dataset: str, body: dict[str, Any], field: str
) -> None:
    assert_invalid(post_export(http, client, dataset, body), field)


def test_every_problem_is_reported_at_once(http: TestClient, client: Client) -> None:
    body = {"changedSince": "never", "limit": 0, "cursor": 7, "format": "csv"}
    response = post_export(http, client, "orders", body)
    assert_invalid(response, "changedSince", "limit", "cursor", "format")
    assert "(and 3 more errors)" in response.json()["message"]


def test_an_oversized_body_is_refused(make_http: MakeHttp, client: Client) -> None:
    http = make_http(max_body_bytes=64)
    content = b'{"changedSince": "2026-01-01"' + b" " * 100 + b"}"
    response = http.post(f"{client.base}/export/orders", content=content, headers=client.auth)
    assert response.status_code == 413
    assert response.json()["message"]


def test_client_types_of_a_client_without_any(http: TestClient, client: Client) -> None:
    response = http.get(f"{client.base}/export/clienttypes", headers=client.auth)
    assert response.status_code == 200
    assert response.json() == []
