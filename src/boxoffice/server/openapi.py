"""The OpenAPI document: generated from the routes, committed as docs/openapi.json.

`python -m boxoffice.server.openapi_file > docs/openapi.json` regenerates it; a test fails
when the committed file and the code drift apart.
"""

from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import RouteContext
from starlette.routing import BaseRoute

from boxoffice.server.errors import (
    ERROR_SCHEMA,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from boxoffice.server.paths import PEPPERED_PREFIX

_INVALID = InvalidInput.documented("Invalid input; `errors` names each offending field.")
_COMMON_ERRORS = _INVALID | Unauthenticated.documented(
    "Missing, malformed, revoked or unknown key, or a key of another or unknown client."
)

_PUBLIC_ERRORS = (
    _INVALID
    | NotFound.documented("Unknown client, or the named record does not exist.")
    | TooManyRequests.documented(
        "Too many requests from this address; `Retry-After` says when to try again."
    )
)


def build_openapi(app: FastAPI, routes: Sequence[BaseRoute | RouteContext]) -> dict[str, Any]:
    """FastAPI's document of the app's `routes` (app.py: documented_routes) plus what the
    middleware does: authentication and common errors. The app's `openapi()` calls it."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=routes,
    )
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components["securitySchemes"] = {
        "apiKey": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "The raw API key as the whole Authorization header value.",
        },
        "basic": {
            "type": "http",
            "scheme": "basic",
            "description": "The API key as user name, empty password.",
        },
        "bearer": {"type": "http", "scheme": "bearer", "description": "Extension."},
    }
    schema["security"] = [{"apiKey": []}, {"basic": []}, {"bearer": []}]
    for path, path_item in schema.get("paths", {}).items():
        public = not path.startswith(PEPPERED_PREFIX + "/")
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            if public:
                # The public API takes no key and answers 429 per client address.
                operation["security"] = []
                common = _PUBLIC_ERRORS
            else:
                common = _COMMON_ERRORS
            for status, response in common.items():
                responses[str(status)] = response
            _add_form_bodies(operation)
    app.openapi_schema = schema
    return schema


def _add_form_bodies(operation: dict[str, Any]) -> None:
    """A JSON object body may also come as a form, PHP's brackets for nesting (lenient.py).

    A list body can too (`0[priceId]=STD`), but OpenAPI has no form encoding of a top-level
    array: docs/input.md describes it.
    """
    content = operation.get("requestBody", {}).get("content", {})
    json_body = content.get("application/json", {})
    schema = json_body.get("schema", {})
    if "$ref" in schema or schema.get("type") == "object":
        for form_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            content[form_type] = json_body


def render_openapi(app: FastAPI) -> bytes:
    return orjson.dumps(app.openapi(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
