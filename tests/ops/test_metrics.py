"""/metrics in Prometheus text format, counting requests by route template, and exports."""

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from boxoffice.server.ops.metrics import record_export
from tests.builders import at, building
from tests.conftest import Client, new_client
from tests.ops.conftest import Connect, MakeApp, sample

PATH = "/export/clienttypes"
TEMPLATE = "/v1/{client_name}/peppered/export/clienttypes"


def test_requests_are_counted_by_route_template_and_status(
    http: TestClient, client: Client
) -> None:
    before = http.get("/metrics").text
    for _ in range(3):
        assert http.get(client.base + PATH, headers=client.auth).status_code == 200
    assert http.get(client.base + PATH).status_code == 401
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    after = response.text
    ok = {"method": "GET", "route": TEMPLATE, "status": "200"}
    refused = {**ok, "status": "401"}
    total = "boxoffice_http_requests_total"
    assert sample(after, total, **ok) - sample(before, total, **ok) == 3
    assert sample(after, total, **refused) - sample(before, total, **refused) == 1
    count = "boxoffice_http_request_duration_seconds_count"
    assert sample(after, count, **ok) - sample(before, count, **ok) == 3
    # No raw path, hence no client name, ever becomes a label.
    assert client.name not in after
    assert re.search(r'route="[^"]*/v1/t\d', after) is None


def test_record_export_adds_rows_and_bytes_by_dataset(http: TestClient) -> None:
    before = http.get("/metrics").text
    record_export("orders", 120, 45_000)
    record_export("orders", 5, 1_000)
    after = http.get("/metrics").text
    rows = "boxoffice_export_rows_total"
    size = "boxoffice_export_bytes_total"
    assert sample(after, rows, dataset="orders") - sample(before, rows, dataset="orders") == 125
    assert sample(after, size, dataset="orders") - sample(before, size, dataset="orders") == 46_000


def test_metrics_can_be_switched_off(make_app: MakeApp, connect: Connect) -> None:
    http = connect(make_app(metrics=False))
    assert http.get("/metrics").status_code == 404


def test_an_export_counts_its_rows_and_bytes(http: TestClient, engine: Engine) -> None:
    client = new_client(engine)
    with building(engine, client.tenant.id) as build:
        build.many_customers(3, changed_at=at("2026-05-01T12:00:00+02:00"))
    before = http.get("/metrics").text
    response = http.post(f"{client.base}/export/customers", headers=client.auth)
    assert response.status_code == 200 and len(response.json()) == 3
    after = http.get("/metrics").text
    rows = "boxoffice_export_rows_total"
    size = "boxoffice_export_bytes_total"
    counted = sample(after, rows, dataset="customers") - sample(before, rows, dataset="customers")
    assert counted == 3
    written = sample(after, size, dataset="customers") - sample(before, size, dataset="customers")
    # The batch's bytes; the closing bracket of the array comes with the last batch.
    assert written == len(response.content)
