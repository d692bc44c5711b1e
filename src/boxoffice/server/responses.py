"""JSON responses rendered with orjson, so money fragments (49.00) pass through exactly."""

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Response

from boxoffice.server.errors import AppError


class OrjsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_response(
    content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return OrjsonResponse(content, status_code=status_code, headers=headers)


def error_response(error: AppError) -> Response:
    """The contract's JSON body for an error of the vocabulary, with its status and headers."""
    return OrjsonResponse(error.body(), status_code=error.status_code, headers=error.headers)
