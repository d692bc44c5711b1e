"""Request ids on every response; one JSON access line per request, without keys or queries."""

import json
import logging
import re
import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from boxoffice.server.ops.access import new_request_id
from boxoffice.server.ops.logs import ACCESS_LOGGER, REQUEST_ID, JsonFormatter
from tests.conftest import Client
from tests.ops.conftest import Connect, MakeApp

PATH = "/export/clienttypes"


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    formatter = JsonFormatter()
    return [
        json.loads(formatter.format(record))
        for record in caplog.records
        if record.name == ACCESS_LOGGER
    ]


def test_every_response_has_a_request_id(http: TestClient, client: Client) -> None:
    ids = set()
    for response in (
        http.get(client.base + PATH, headers=client.auth),
        http.get(client.base + PATH),
        http.get("/no/such/page"),
        http.get("/healthz"),
    ):
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
        ids.add(response.headers["x-request-id"])
    assert len(ids) == 4


def test_a_new_request_id_is_a_random_uuid4() -> None:
    ids = [new_request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for request_id in ids:
        parsed = uuid.UUID(hex=request_id)
        assert parsed.hex == request_id
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
    # Every other bit is random: over 2,000 ids each one is seen set and unset.
    random_bits = ((1 << 128) - 1) & ~(0xF000 << 64 | 0xC000 << 48)
    seen_set = seen_unset = 0
    for request_id in ids:
        value = int(request_id, 16)
        seen_set |= value
        seen_unset |= ~value
    assert seen_set & random_bits == seen_unset & random_bits == random_bits


def test_a_tame_incoming_request_id_is_kept_and_a_wild_one_replaced(http: TestClient) -> None:
    kept = http.get("/healthz", headers={"X-Request-ID": "edge-7f3a:42.b_c"})
    assert kept.headers["x-request-id"] == "edge-7f3a:42.b_c"
    for wild in ("has space", "x" * 129, 'quote"', "new\\nline"):
        replaced = http.get("/healthz", headers={"X-Request-ID": wild})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])


def test_the_access_line_names_the_tenant_and_key_prefix_never_the_key(
    http: TestClient, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    response = http.get(
        client.base + "/customer/424242?token=hush",
        headers={**client.auth, "X-Request-ID": "trace-me", "User-Agent": "probe/1"},
    )
    assert response.status_code == 404
    bad = http.get(client.base + PATH, headers={"Authorization": client.key + "z"})
    assert bad.status_code == 401
    lines = access_lines(caplog)
    assert len(lines) == 2
    line = lines[0]
    assert line["request_id"] == "trace-me"
    assert line["method"] == "GET"
    assert line["path"] == f"{client.base}/customer/424242"
    assert line["route"] == "/v1/{client_name}/peppered/customer/{customerId}"
    assert line["status"] == 404
    assert line["tenant"] == client.name
    assert line["key"] == "bo_" + client.key.split("_")[1]
    assert line["client"] == "testclient"
    assert line["user_agent"] == "probe/1"
    assert line["bytes"] == len(response.content)
    assert isinstance(line["duration_ms"], float)
    assert lines[1]["status"] == 401
    assert lines[1]["tenant"] is None
    assert lines[1]["key"] is None
    # The record names its source as Logger.log would find it.
    sources = {(r.module, r.funcName) for r in caplog.records if r.name == ACCESS_LOGGER}
    assert sources == {("access", "_log")}
    everything = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert client.key not in everything
    assert "hush" not in everything


def test_probes_are_logged_at_debug_level(
    http: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=ACCESS_LOGGER)
    http.get("/healthz")
    assert [r.levelno for r in caplog.records if r.name == ACCESS_LOGGER] == [logging.DEBUG]


def test_an_unexpected_error_is_a_500_with_a_request_id_and_a_log_line(
    make_app: MakeApp, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    def explode() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/explode", explode, include_in_schema=False)
    http = TestClient(app, raise_server_exceptions=False)
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    response = http.get("/explode", headers={"X-Request-ID": "broken-1"})
    assert response.status_code == 500
    assert response.json() == {"message": "Server error."}
    assert "boom" not in response.text
    assert response.headers["x-request-id"] == "broken-1"
    [line] = access_lines(caplog)
    assert line["status"] == 500
    assert line["error"] == "RuntimeError"
    assert line["route"] == "/explode"


def test_json_formatter_writes_one_line_with_the_current_request_id() -> None:
    token = REQUEST_ID.set("r-1")
    try:
        try:
            raise ValueError("bad\nthing")
        except ValueError:
            record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("a",), None)
            record.exc_info = __import__("sys").exc_info()
        line = JsonFormatter().format(record)
    finally:
        REQUEST_ID.reset(token)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "failed a"
    assert parsed["level"] == "error"
    assert parsed["request_id"] == "r-1"
    assert "ValueError: bad" in parsed["exception"]


@pytest.mark.parametrize(
    "created",
    [
        1_764_307_350.225,
        1_764_307_350.0,
        # Rounded to the microsecond half to even, as datetime does, into the next second.
        1_764_307_350.9999996,
        1_764_307_350.9999994,
        1_764_307_350.0004995,
        1_764_307_350.0009995,
        1_764_307_350.000_000_5,
        1_764_307_350.000_001_5,
        # A second apart, then back: the text made for one second is not reused for another.
        1_764_307_351.5,
        1_764_307_350.5,
        0.0,
    ],
)
def test_json_formatter_time_is_datetime_isoformat_in_milliseconds(created: float) -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    for moment in (created, created + 1.0, created):
        record.created = moment
        expected = datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
        assert json.loads(formatter.format(record))["time"] == expected
