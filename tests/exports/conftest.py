"""Fixtures of the export tests: apps with other settings, and a short way to call an export."""

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx2
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from boxoffice.server.app import create_app
from boxoffice.server.config import Settings
from boxoffice.server.db.paging import Window
from boxoffice.server.db.transactions import open_export_snapshot
from boxoffice.server.exports.exporters import CUSTOMERS, Exporter
from boxoffice.server.exports.streaming import ExportStream
from boxoffice.server.exports.writers import JSON_ARRAY, Writer
from boxoffice.server.values.clock import now_micros
from tests.builders import at
from tests.conftest import Client

MakeHttp = Callable[..., TestClient]

# The test data is stamped in 2026 (the daylight-saving days of the contract's examples),
# and an export returns only rows stamped before the server's clock.
LATEST_TEST_STAMP = "2026-10-26T00:00:00+00:00"


@pytest.fixture(scope="session", autouse=True)
def clock_is_after_the_test_data() -> None:
    if now_micros() <= at(LATEST_TEST_STAMP):
        pytest.fail(f"these tests need a clock later than {LATEST_TEST_STAMP}")


@pytest.fixture
def make_http(engine: Engine, settings: Settings) -> Iterator[MakeHttp]:
    """A TestClient of an app on the test database with some settings changed."""
    with ExitStack() as stack:

        def make(**overrides: Any) -> TestClient:
            app = create_app(settings.model_copy(update=overrides), engine=engine)
            return stack.enter_context(TestClient(app, base_url="http://127.0.0.1"))

        yield make


def post_export(
    http: TestClient,
    client: Client,
    dataset: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> httpx2.Response:
    """POST /export/<dataset> with a JSON body (None: no body at all)."""
    content = None if body is None else orjson.dumps(body)
    return http.post(
        f"{client.base}/export/{dataset}",
        content=content,
        headers={**client.auth, **(headers or {})},
    )


def records(response: httpx2.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    data = orjson.loads(response.content)
    assert isinstance(data, list)
    return data


def ids(response: httpx2.Response, key: str) -> list[int]:
    return [record[key] for record in records(response)]


def export_stream(
    engine: Engine,
    client: Client,
    batch_size: int,
    exporter: Exporter = CUSTOMERS,
    user_cache_bytes: int = 1 << 20,
    writer: Writer = JSON_ARRAY,
) -> ExportStream:
    """An export of all of the client's records, straight from the stream (no HTTP)."""
    snapshot = open_export_snapshot(engine)
    return ExportStream(
        snapshot,
        exporter,
        tenant_id=client.tenant.id,
        tz=client.tenant.timezone,
        window=Window(until=snapshot.watermark),
        writer=writer,
        batch_size=batch_size,
        user_cache_bytes=user_cache_bytes,
    )
