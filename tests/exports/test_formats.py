"""NDJSON and gzip: other encodings of exactly the same records."""

import gzip
import zlib
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.builders import Seat, at, building
from tests.conftest import Client
from tests.exports.conftest import MakeHttp, post_export, records

DATASETS = ["customers", "orders", "waitinglist"]


@pytest.fixture
def filled(engine: Engine, client: Client) -> Client:
    """A client with a few batches' worth of every dataset (batch size 7 below)."""
    with building(engine, client.tenant.id) as b:
        b.client_types("friend", "vip")
        people = [
            b.customer(changed_at=at("2026-02-01T10:00:00+01:00") + n, tags=["vip"][: n % 2])
            for n in range(23)
        ]
        b.many_orders(
            30,
            changed_at=at("2026-02-02T10:00:00+01:00"),
            customer_ids=[*people, None],
            seats=[Seat(row_nr=1, seat_nr=2), Seat(deleted_at=at("2026-02-02T09:00:00+01:00"))],
        )
        for n, person in enumerate(people):
            b.waiting(customer_id=person, changed_at=at("2026-02-03T10:00:00+01:00") + n % 3)
    return client


def raw_body(http: TestClient, client: Client, dataset: str, headers: dict[str, str]) -> Any:
    """The response and its body exactly as sent (not decompressed)."""
    with http.stream(
        "POST", f"{client.base}/export/{dataset}", headers={**client.auth, **headers}
    ) as response:
        body = b"".join(response.iter_raw())
    return response, body


def ndjson_records(body: bytes) -> list[Any]:
    assert body == b"" or body.endswith(b"\n")
    return [orjson.loads(line) for line in body.split(b"\n")[:-1]]


@pytest.mark.parametrize("dataset", DATASETS)
def test_ndjson_holds_the_same_records_one_per_line(
    make_http: MakeHttp, filled: Client, dataset: str
) -> None:
    http = make_http(export_batch_size=7)
    expected = records(post_export(http, filled, dataset))
    assert len(expected) >= 23
    response, body = raw_body(
        http, filled, dataset, {"Accept": "application/x-ndjson", "Accept-Encoding": "identity"}
    )
    assert response.headers["content-type"] == "application/x-ndjson"
    assert "content-encoding" not in response.headers
    assert ndjson_records(body) == expected
    # Each record is a line of its own: a client can process it as soon as it arrives.
    assert body.count(b"\n") == len(expected)


@pytest.mark.parametrize("accept", ["application/x-ndjson", "application/json"])
@pytest.mark.parametrize("dataset", DATASETS)
def test_gzip_decodes_to_the_same_bytes(
    make_http: MakeHttp, filled: Client, dataset: str, accept: str
) -> None:
    http = make_http(export_batch_size=7)
    plain_response, plain = raw_body(
        http, filled, dataset, {"Accept": accept, "Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in plain_response.headers
    response, compressed = raw_body(
        http, filled, dataset, {"Accept": accept, "Accept-Encoding": "gzip"}
    )
    assert response.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in response.headers["vary"].lower()
    assert "content-length" not in response.headers
    assert len(compressed) < len(plain)
    assert gzip.decompress(compressed) == plain


def test_gzip_stream_is_decodable_chunk_by_chunk(make_http: MakeHttp, filled: Client) -> None:
    """Each chunk is flushed: what has arrived so far decodes to whole batches of records."""
    http = make_http(export_batch_size=7)
    headers = {**filled.auth, "Accept": "application/x-ndjson", "Accept-Encoding": "gzip"}
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    lines_per_chunk = []
    with http.stream("POST", f"{filled.base}/export/orders", headers=headers) as response:
        for chunk in response.iter_raw():
            text = decoder.decompress(chunk)
            assert text == b"" or text.endswith(b"\n")
            lines_per_chunk.append(text.count(b"\n"))
    assert [n for n in lines_per_chunk if n] == [7, 7, 7, 7, 2]


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("text/html", "application/json"),
        ("application/x-ndjson", "application/x-ndjson"),
        ("application/x-ndjson, */*;q=0.1", "application/x-ndjson"),
        ("application/json;q=0.5, application/x-ndjson", "application/x-ndjson"),
        ("application/x-ndjson;q=0.5, application/json", "application/json"),
        ("application/json, application/x-ndjson", "application/json"),
        ("application/x-ndjson;q=0", "application/json"),
        ("APPLICATION/X-NDJSON", "application/x-ndjson"),
    ],
)
def test_content_negotiation(
    http: TestClient, filled: Client, accept: str | None, media_type: str
) -> None:
    headers = {} if accept is None else {"Accept": accept}
    response = post_export(http, filled, "customers", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert "accept" in response.headers["vary"].lower()


@pytest.mark.parametrize("dataset", DATASETS)
def test_empty_exports(http: TestClient, client: Client, dataset: str) -> None:
    assert post_export(http, client, dataset).content == b"[]"
    ndjson = post_export(http, client, dataset, headers={"Accept": "application/x-ndjson"})
    assert ndjson.status_code == 200
    assert ndjson.content == b""
