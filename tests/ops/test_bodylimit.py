"""Bodies over BOXOFFICE_MAX_BODY_BYTES get 413 JSON, and are not read to the end first."""

import asyncio
from collections.abc import Iterator

from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from boxoffice.server.ops.bodylimit import BodyLimitMiddleware
from boxoffice.server.responses import json_response
from tests.conftest import Client
from tests.ops.conftest import Connect, MakeApp

LIMIT = 1000
JSON = {"Content-Type": "application/json"}
MESSAGE = {"message": f"The request body is larger than the limit of {LIMIT} bytes."}


def customer(padding: int) -> bytes:
    return b'{"email": "big@example.org", "customerLastName": "' + b"x" * padding + b'"}'


def test_a_declared_length_over_the_limit_is_refused_before_authentication(
    make_app: MakeApp, connect: Connect, client: Client
) -> None:
    http = connect(make_app(max_body_bytes=LIMIT))
    body = customer(LIMIT)
    for headers in (JSON, {**JSON, **client.auth}):
        response = http.post(client.base + "/customer", content=body, headers=headers)
        assert response.status_code == 413, response.text
        assert response.json() == MESSAGE
        assert response.headers["x-request-id"]


def test_a_chunked_body_over_the_limit_is_refused(
    make_app: MakeApp, connect: Connect, client: Client
) -> None:
    http = connect(make_app(max_body_bytes=LIMIT))

    def chunks() -> Iterator[bytes]:
        body = customer(LIMIT)
        for start in range(0, len(body), 100):
            yield body[start : start + 100]

    response = http.post(
        client.base + "/customer", content=chunks(), headers={**JSON, **client.auth}
    )
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 413, response.text
    assert response.json() == MESSAGE


def test_a_body_at_the_limit_passes(make_app: MakeApp, connect: Connect, client: Client) -> None:
    body = customer(5)
    http = connect(make_app(max_body_bytes=len(body)))
    response = http.post(client.base + "/customer", content=body, headers={**JSON, **client.auth})
    assert response.status_code == 201, response.text


def test_streamed_chunks_stop_being_read_at_the_one_that_passes_the_limit() -> None:
    """Asserted at the ASGI level, where the chunks that were read can be counted."""
    chunks = [b"x" * 400] * 10
    read: list[int] = []

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        body = b"".join([chunk async for chunk in Request(scope, receive).stream()])
        await json_response({"size": len(body)})(scope, receive, send)

    async def receive() -> Message:
        read.append(len(read))
        return {"type": "http.request", "body": chunks[len(read) - 1], "more_body": True}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    asyncio.run(BodyLimitMiddleware(endpoint, max_bytes=LIMIT)(scope, receive, send))
    assert sent[0]["status"] == 413
    assert len(read) == 3  # 400, 800, 1200: the third passes 1000, the rest stay unread
