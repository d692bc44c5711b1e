"""The error vocabulary: stable codes, and the documented responses are made from it."""

import re

from fastapi import FastAPI

from boxoffice.server import errors
from boxoffice.server.errors import AppError, Conflict, NotFound
from boxoffice.server.public.errors import PublicNotFound


def _vocabulary() -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    pending: list[type[AppError]] = [AppError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.code, set()).add(cls.status_code)
        pending.extend(cls.__subclasses__())
    return found


def test_every_error_has_a_snake_case_code_and_one_status() -> None:
    vocabulary = _vocabulary()
    assert PublicNotFound.code in vocabulary
    for code, statuses in vocabulary.items():
        assert re.fullmatch(r"[a-z]+(?:_[a-z]+)*", code), code
        assert len(statuses) == 1, (code, statuses)


def test_documented_responses_combine_and_name_their_code() -> None:
    responses = NotFound.documented("Order not found.") | Conflict.documented("Taken.")
    assert set(responses) == {404, 409}
    assert responses[404]["description"] == "Order not found."
    assert responses[409]["x-error-code"] == "conflict"
    schema = responses[404]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Error"}


def test_every_documented_error_of_the_api_comes_from_the_vocabulary(app: FastAPI) -> None:
    vocabulary = _vocabulary()
    document = app.openapi()
    assert document["components"]["schemas"]["Error"] == errors.ERROR_SCHEMA
    seen = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if not status.startswith(("4", "5")):
                    continue
                code = response.get("x-error-code")
                assert code in vocabulary, (method, path, status)
                assert int(status) in vocabulary[code], (method, path, status, code)
                seen += 1
    assert seen > 50
