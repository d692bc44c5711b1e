"""Hostile input over HTTP (the real app, in-process), on both databases.

Whatever arrives (huge, deeply nested, mistyped or undecodable bodies, SQL in fields, CR/LF
in headers, traversal in the client name), the answer is a 4xx with a JSON `message` and
no stack trace, nothing is written, and nothing of another client shows.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, inspect, select

from boxoffice.server.carts.tables import cart_items
from boxoffice.server.customers.tables import customers
from boxoffice.server.orders.tables import orders
from boxoffice.server.tenancy.tables import clients
from tests.fuzz.conftest import RESERVED_EVENT, FuzzTarget, new_target

LIMIT = 1_048_576  # BOXOFFICE_MAX_BODY_BYTES of the test app: the default
JSON = {"Content-Type": "application/json"}
DEPTH = 100_000
SQL = [
    "'; DROP TABLE customers; --",
    "x' OR '1'='1",
    '" OR ""="',
    "1; DELETE FROM orders",
    "%",
    "_",
    "\\",
    "') UNION SELECT key_hash FROM api_keys --",
]
# Writes of the API that take a body, with a valid body each (for the content-type tests).
WRITES = [
    ("/customer", {"email": "typed@example.org", "customerLastName": "Typed"}),
    ("/customer/findByEmail", {"email": "person0@example.org"}),
    ("/waitinglist", {"customerId": 1, "eventId": RESERVED_EVENT, "numberOfTickets": 1}),
    ("/export/customers", {}),
]

Reply = Any  # TestClient's response (httpx2's when installed, else httpx's)


def assert_error(response: Reply, *statuses: int) -> None:
    """A 4xx among `statuses` (any 4xx when none given), as the contract's JSON."""
    assert response.status_code in statuses if statuses else 400 <= response.status_code < 500, (
        response.status_code,
        response.text[:500],
    )
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict)
    assert isinstance(body["message"], str)
    assert body["message"]
    assert "Traceback" not in response.text
    assert 'File "' not in response.text


def counts(engine: Engine) -> dict[str, int]:
    """Rows of the tables a bad request could write to, across all clients."""
    with engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (clients, customers, orders, cart_items)
        }


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    """The real app over HTTP; a server error is a 500 answer here, as a caller sees it."""
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def target(app: FastAPI, engine: Engine) -> FuzzTarget:
    return new_target(app, engine)


@pytest.fixture
def other(app: FastAPI, engine: Engine) -> FuzzTarget:
    """Another client with the same kind of data."""
    return new_target(app, engine)


@pytest.fixture
def unchanged(engine: Engine, target: FuzzTarget, other: FuzzTarget) -> Iterator[None]:
    """The test must leave every table as it found it."""
    before = counts(engine)
    yield
    assert counts(engine) == before


def test_a_body_over_the_limit_is_refused_with_or_without_a_length(
    http: TestClient, target: FuzzTarget, unchanged: None
) -> None:
    client = target.client
    body = b'{"email": "big@example.org", "customerLastName": "' + b"x" * LIMIT + b'"}'

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    for path in ("/customer", "/export/orders", f"/cart/{target.known['cartId'][0]}"):
        declared = http.post(client.base + path, content=body, headers={**JSON, **client.auth})
        assert_error(declared, 413)
        chunked = http.post(client.base + path, content=chunks(), headers={**JSON, **client.auth})
        assert chunked.request.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in chunked.request.headers
        assert_error(chunked, 413)
        assert (
            chunked.json()["message"]
            == f"The request body is larger than the limit of {LIMIT} bytes."
        )


@pytest.mark.parametrize(
    "body",
    [
        b"[" * DEPTH,
        b"[" * DEPTH + b"]" * DEPTH,
        b'{"a":' * DEPTH + b"1" + b"}" * DEPTH,
        b'{"email": ' + b"[" * DEPTH + b"]" * DEPTH + b', "customerLastName": "x"}',
    ],
    ids=["open arrays", "closed arrays", "objects", "in a field"],
)
def test_deeply_nested_json_is_a_4xx(
    http: TestClient, target: FuzzTarget, unchanged: None, body: bytes
) -> None:
    client = target.client
    for path in (
        "/customer",
        "/customer/findByEmail",
        f"/cart/{target.known['cartId'][0]}",
        "/export/customers",
        "/export/orders",
    ):
        assert_error(http.post(client.base + path, content=body, headers={**JSON, **client.auth}))
    # And the app still serves.
    assert http.get(client.base + "/event", headers=client.auth).status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "application/xml",
        "application/json; charset=latin-1",
        "",
    ],
)
def test_a_json_body_is_read_as_json_whatever_its_content_type(
    http: TestClient, target: FuzzTarget, content_type: str
) -> None:
    """PHP clients and `curl -d` label JSON loosely: a JSON body is JSON under any type but
    multipart, which is a form (one that does not parse, or has no fields, is a 4xx on the
    writes). See docs/input.md."""
    client = target.client
    tag = "".join(ch for ch in content_type if ch.isalnum())[:20] or "none"
    for path, body in WRITES:
        if path == "/customer":
            body = {**body, "email": f"typed-{tag}@example.org"}
        response = http.post(
            client.base + path,
            content=json.dumps(body).encode(),
            headers={**client.auth, "Content-Type": content_type},
        )
        if content_type.startswith("multipart/"):
            # JSON is not multipart: "Invalid multipart data", or a form with no fields.
            assert_error(response)
        elif path == "/waitinglist":
            # Read as JSON: whatever the answer (joined, on the list already, no such
            # customer in this target), it is about the entry, not the body.
            if response.status_code >= 300:
                assert_error(response, 409, 422)
                assert "body" not in response.json().get("errors", {}), response.text
        else:
            assert response.status_code < 300, (content_type, path, response.text)
    form = http.post(
        client.base + "/customer",
        data={"email": f"form-{tag}@example.org", "customerLastName": "Form"},
        headers=client.auth,
    )
    assert form.status_code == 201, form.text
    found = http.post(
        client.base + "/customer/findByEmail",
        json={"email": f"form-{tag}@example.org"},
        headers=client.auth,
    )
    assert found.status_code == 200, found.text


@pytest.mark.parametrize(
    "body",
    [
        b'{"email": "\xff\xfe@example.org", "customerLastName": "x"}',
        b'{"email": "a@example.org", "customerLastName": "\xc3\x28"}',
        b'{"customerLastName": "\x80"}',
        b"\x00\x00\x00{",
        b'{"changedSince": "\xed\xa0\x80"}',
    ],
    ids=["latin-1", "bad utf-8 pair", "lone continuation", "nul", "surrogate"],
)
def test_a_body_that_is_not_utf8_is_a_4xx(
    http: TestClient, target: FuzzTarget, unchanged: None, body: bytes
) -> None:
    client = target.client
    for path in (
        "/customer",
        "/customer/findByEmail",
        f"/customer/{target.known['customerId'][0]}",
        "/export/customers",
        "/export/waitinglist",
    ):
        method = "PUT" if path.startswith("/customer/") and path[10:].isdigit() else "POST"
        response = http.request(
            method, client.base + path, content=body, headers={**JSON, **client.auth}
        )
        assert_error(response)


def test_an_undecodable_path_or_query_is_a_4xx(
    http: TestClient, target: FuzzTarget, unchanged: None
) -> None:
    client = target.client
    for path in ("/customer/%FF", "/order?changedSince=%FF%FE", "/event?startDate=%C3%28"):
        assert_error(http.get(client.base + path, headers=client.auth))


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(b"\xff\xfe", id="raw"),
        pytest.param(b"KEY\xff", id="key and a byte"),
        pytest.param(b"Bearer \xff\xfe", id="bearer"),
        pytest.param(b"Basic \xff\xff", id="basic"),
    ],
)
def test_an_undecodable_authorization_header_is_a_401(
    http: TestClient, target: FuzzTarget, authorization: bytes
) -> None:
    client = target.client
    authorization = authorization.replace(b"KEY", client.key.encode())
    response = http.get(client.base + "/event", headers={"Authorization": authorization})
    assert_error(response, 401)


@pytest.mark.parametrize("text", SQL)
def test_sql_in_fields_is_stored_verbatim(
    http: TestClient, engine: Engine, target: FuzzTarget, text: str
) -> None:
    client = target.client
    before = counts(engine)
    # The same text in the email, as far as an address allows (no whitespace, one @).
    email = "".join(c for c in text if not c.isspace() and c != "@") + "@example.org"
    created = http.post(
        client.base + "/customer",
        json={
            "email": email,
            "customerFirstName": text,
            "customerLastName": text,
            "customerCity": text,
        },
        headers=client.auth,
    )
    assert created.status_code == 201, created.text
    customer = created.json()
    assert customer["email"] == email
    assert customer["customerFirstName"] == text.strip()
    stored = http.get(f"{client.base}/customer/{customer['customerId']}", headers=client.auth)
    assert stored.json()["customerLastName"] == text.strip()
    assert stored.json()["customerCity"] == text.strip()
    found = http.post(
        client.base + "/customer/findByEmail", json={"email": email.upper()}, headers=client.auth
    )
    assert found.status_code == 200, found.text
    assert found.json()["customerId"] == customer["customerId"]
    # Exactly one row more, in customers; every table is still there.
    after = counts(engine)
    assert after == {**before, "customers": before["customers"] + 1}
    assert {"customers", "orders", "api_keys"} <= set(inspect(engine).get_table_names())


@pytest.mark.parametrize("text", SQL)
def test_sql_in_lookups_finds_nothing_and_changes_nothing(
    http: TestClient, target: FuzzTarget, other: FuzzTarget, unchanged: None, text: str
) -> None:
    client = target.client
    for email in (text, f"{text}@example.org", f"person0@example.org{text}", "%@example.org"):
        found = http.post(
            client.base + "/customer/findByEmail", json={"email": email}, headers=client.auth
        )
        assert_error(found, 404, 422)
    for changed_since in (text, f"2020-01-01{text}", f"2020-01-01T00:00:00Z{text}"):
        listed = http.get(
            client.base + "/order", params={"changedSince": changed_since}, headers=client.auth
        )
        assert_error(listed, 422)
        exported = http.post(
            client.base + "/export/orders",
            json={"changedSince": changed_since},
            headers=client.auth,
        )
        assert_error(exported, 422)
    for path in (f"/customer/1{text}", f"/order/1 OR 1=1{text}", f"/event/{text}"):
        assert_error(http.get(client.base + path, headers=client.auth))
    waiting = http.get(client.base + "/waitinglist", params={"eventId": text}, headers=client.auth)
    assert_error(waiting, 422)
    # Wildcards and quotes match nothing, and the client still sees only its own records.
    listed = http.post(client.base + "/export/customers", headers=client.auth).json()
    assert {c["customerId"] for c in listed} == set(target.known["customerId"])
    assert http.get(other.client.base + "/event", headers=client.auth).status_code == 401


@pytest.mark.parametrize(
    "value",
    [
        "abc\r\nSet-Cookie: evil=1",
        "abc\nX-Injected: 1",
        "abc\rX-Injected: 1",
        "abc%0d%0aSet-Cookie:%20evil=1",
        "abc\u0085X-Injected: 1",
        "x" * 129,
        "<script>alert(1)</script>",
    ],
)
def test_a_request_id_cannot_inject_headers(
    http: TestClient, target: FuzzTarget, value: str
) -> None:
    client = target.client
    raw = value.encode("utf-8")
    for path, headers, status in (
        ("/event", client.auth, 200),
        ("/event/999999", client.auth, 404),
        ("/event", {}, 401),
    ):
        # The in-process transport passes CR/LF on as they are: the app itself must cope.
        response = http.get(client.base + path, headers={**headers, "X-Request-ID": raw})
        assert response.status_code == status
        echoed = response.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", echoed), echoed
        assert "set-cookie" not in response.headers
        assert "x-injected" not in response.headers
        if response.status_code >= 400:
            assert_error(response)


def test_a_tame_request_id_is_echoed_as_is(http: TestClient, target: FuzzTarget) -> None:
    client = target.client
    response = http.get(client.base + "/event", headers={**client.auth, "X-Request-ID": "a.b:c-1"})
    assert response.headers["x-request-id"] == "a.b:c-1"


def test_traversal_in_the_client_name_reaches_no_file_and_no_other_client(
    http: TestClient, target: FuzzTarget, other: FuzzTarget, unchanged: None
) -> None:
    client = target.client
    victim = other.known["customerId"][0]
    names = [
        "..",
        "%2e%2e",
        "%2E%2E",
        "..%2f..%2f..%2fetc%2fpasswd",
        "..%2F..%2Fpyproject.toml",
        f"{client.name}%2f..%2f{other.client.name}",
        f"{client.name}%2fpeppered%2f..%2f..%2f{other.client.name}",
        f"{other.client.name}%00",
        f"{client.name}%00{other.client.name}",
        f"%2e%2e%2f{other.client.name}",
        f"{client.name}/..",
        f"{client.name.upper()}",
        f"{client.name}%20",
        f"{client.name}%2f",
        f"..;/{other.client.name}",
    ]
    for name in names:
        for tail in (f"/customer/{victim}", "/export/customers", "/hall"):
            for auth in (client.auth, other.client.auth, {}):
                response = http.get(f"/v1/{name}/peppered{tail}", headers=auth)
                if tail.startswith("/export"):
                    response = http.post(f"/v1/{name}/peppered{tail}", headers=auth)
                assert_error(response, 401, 404, 405)
                assert "root:" not in response.text
                assert "[project]" not in response.text
                assert "person0@example.org" not in response.text
    # Another client's name with this client's key is the plain 401.
    response = http.get(f"{other.client.base}/customer/{victim}", headers=client.auth)
    assert_error(response, 401)
    for path in (
        "/static-offline-docs/..%2f..%2f..%2fpyproject.toml",
        "/static-offline-docs/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
        "/static-offline-docs/..%5c..%5cpyproject.toml",
        "/docs/..%2f..%2fetc%2fpasswd",
    ):
        response = http.get(path)
        assert_error(response, 404)
        assert "[project]" not in response.text
        assert "root:" not in response.text


def test_hostile_path_segments_on_the_public_api_are_404s_or_empty_lists(
    http: TestClient, target: FuzzTarget, other: FuzzTarget, unchanged: None
) -> None:
    client = target.client
    segments = [
        "1 OR 1=1",
        "1;DROP TABLE events",
        "' OR ''='",
        "%00",
        "1%00",
        "..%2f..%2fpyproject.toml",
        "%2e%2e",
        "\uff19",  # a full-width digit: a digit to Python, not to an id
        "\u0661\u0662",
        "1e3",
        "0x1F",
        "-1",
        "+1",
        "9" * 400,
        "18446744073709551616",
        "%ff%fe",
        "\U0001f600",
        "<script>alert(1)</script>",
    ]
    for segment in segments:
        for tail in ("/events/", "/tickettypes/", "/locations/", "/eventtypes/"):
            response = http.get(f"/v1/{client.name}{tail}{segment}")
            if tail == "/eventtypes/" and response.status_code == 200:
                assert response.json() == [], (segment, response.text)
                continue
            assert_error(response, 404)
            assert "person0@example.org" not in response.text
            assert "Traceback" not in response.text
    for name in ("..", "%2e%2e", f"{client.name}%2f..%2f{other.client.name}", "A" * 300, "%00"):
        for tail in ("/events", "/locations", "/paymentmethods"):
            assert_error(http.get(f"/v1/{name}{tail}"), 404)


def test_other_methods_and_bodies_on_public_catalog_routes_are_4xx(
    http: TestClient, target: FuzzTarget, unchanged: None
) -> None:
    base = f"/v1/{target.client.name}"
    for path in ("/events", f"/events/{RESERVED_EVENT}", "/locations", "/eventtypes"):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            response = http.request(method, f"{base}{path}", content=b'{"x": 1}')
            assert_error(response, 404, 405)
