"""Input as PHP and Laravel clients send it: one route class, one middleware, lenient types.

Clients of the VoordeMensen APIs are mostly PHP (WordPress plugins, Laravel backends). What
they send differs from what a strict JSON API expects, in ways that are unambiguous:

- `[]`, `null` or no body at all for "no parameters" (PHP's `json_encode([])` is `[]`);
- form-encoded bodies (`application/x-www-form-urlencoded`, `multipart/form-data`), with
  PHP's bracket notation (`0[priceId]=x&0[rankId]=21`) for nested values;
- a JSON body labelled as a form (what `curl -d '{...}'` sends);
- integers as numeric strings (`"rankId": "21"`) and `""` for "not given";
- a list as an object with the keys "0", "1", ... (a PHP array that lost its order);
- query-string parameters on a POST (Laravel's `$request->input()` reads both);
- a trailing slash on the path.

`LenientRoute` (every API router's `route_class`) turns the body into the JSON the route
declares before FastAPI reads it, and refuses what it cannot honour with a 422 naming it.
`api_router` makes every API router with it (a router that rules out a path that is not its
own with one regular expression). `TrailingSlashMiddleware` serves `/path/` as `/path`.
`IntegerInput` and `BooleanInput` are the pydantic types that take the numeric strings.
Everything else stays strict:
unknown fields, wrong types and out-of-range values remain 422s naming the field.
"""

import re
from collections.abc import Callable, Coroutine, Mapping
from typing import Annotated, Any, Literal, get_args, get_origin

import orjson
import qs_codec
from fastapi import APIRouter, Request, Response, params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.server.errors import InvalidInput
from boxoffice.server.threadpool import route_endpoint

BodyShape = Literal["object", "list", "none", "form"]

# Methods whose query string is the request's input as a matter of course; on the others
# an undeclared query parameter is merged into the body or refused, never ignored.
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_INTEGER = re.compile(r"[+-]?\d{1,19}")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_FORM_OPTIONS = qs_codec.DecodeOptions(
    depth=5, strict_depth=True, parameter_limit=1000, list_limit=1000, raise_on_limit_exceeded=True
)
_NOT_JSON = "The body is not valid JSON."


# --- Pydantic types --------------------------------------------------------------------


def _integer(value: object) -> object:
    """A numeric string as its integer; "" as null. Anything else is left to the type check."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _INTEGER.fullmatch(text):
            return int(text)
    return value


_TRUE = frozenset({"1", "true"})
_FALSE = frozenset({"0", "false"})


def _boolean(value: object) -> object:
    """Laravel's `boolean`: true, false, 1, 0, "1", "0" (and "true", "false"); "" as null."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if not text:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return value


class _Lenient:
    """Pydantic metadata: `convert` runs before the type's own (strict) validation, and the
    JSON schema says that the value may also come as a string matching `pattern`.

    Put it last in `Annotated[...]`, after the `Field(strict=True, ...)` it extends.
    """

    def __init__(self, convert: Callable[[object], object], pattern: str, note: str) -> None:
        self.convert = convert
        self.pattern = pattern
        self.note = note

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self.convert, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        inner = handler(schema)
        as_string = {"type": "string", "pattern": self.pattern, "description": self.note}
        return {"anyOf": [*inner.get("anyOf", [inner]), as_string]}


# `Annotated[int, Field(strict=True, gt=0), IntegerInput]`: the integer (never a float or a
# boolean), or its decimal digits as a string; "" counts as null.
IntegerInput = _Lenient(_integer, r"^\s*[+-]?\d+\s*$", "The integer as a numeric string.")
# `Annotated[StrictBool, BooleanInput]`: true/false, 1/0, "1"/"0", "true"/"false".
BooleanInput = _Lenient(
    _boolean, r"^\s*([01]|[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])\s*$", "1/0 or true/false."
)


def integer_input(value: object, field: str, *, minimum: int, maximum: int) -> int | None:
    """For hand-parsed bodies: an integer (or a numeric string) in range, or a 422 naming it."""
    value = _integer(value)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidInput.field(
            field, f"The {field} must be a whole number from {minimum} to {maximum}."
        )
    return value


# --- Bodies ------------------------------------------------------------------------------


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _is_json(request: Request) -> bool:
    return _media_type(request.headers.get("content-type")) == "application/json"


def _looks_like_json(raw: bytes) -> bool:
    start = raw.lstrip()[:1]
    return start in (b"{", b"[") or raw.strip() == b"null"


def _decode_form(pairs: Mapping[str, Any] | str) -> dict[str, Any]:
    try:
        return qs_codec.decode(pairs, _FORM_OPTIONS)
    except (ValueError, IndexError, TypeError, RecursionError):
        raise InvalidInput.field(
            "body", "The form body is nested too deeply or has too many fields."
        ) from None


async def _form_fields(request: Request, raw: bytes, media_type: str) -> dict[str, Any]:
    """A form body as nested values, PHP's brackets decoded (`a[b]=1` is `{"a": {"b": "1"}}`)."""
    if media_type == "application/x-www-form-urlencoded":
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            raise InvalidInput.field("body", "The form body is not UTF-8.") from None
        return _decode_form(text)
    try:
        form = await request.form()
    except HTTPException as exc:
        # Starlette's 400 for a multipart body it cannot parse; invalid input is a 422 here.
        raise InvalidInput.field("body", f"The form body is not valid: {exc.detail}") from None
    fields: dict[str, Any] = {}
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                raise InvalidInput.field(key, f"The {key} field must be text, not a file.")
            previous = fields.get(key)
            if previous is None:
                fields[key] = value
            elif isinstance(previous, list):
                previous.append(value)
            else:
                fields[key] = [previous, value]
    finally:
        await form.close()
    return _decode_form(fields)


async def _read_body(request: Request) -> object:
    """The body as a value: JSON, or a form's fields; None when there is none."""
    raw = await request.body()
    if not raw.strip():
        return None
    media_type = _media_type(request.headers.get("content-type"))
    if media_type in _FORM_TYPES and not (
        media_type == "application/x-www-form-urlencoded" and _looks_like_json(raw)
    ):
        return await _form_fields(request, raw, media_type)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput.field("body", _NOT_JSON) from None


def _as_list(value: dict[str, Any]) -> list[Any] | None:
    """{"0": a, "1": b} as [a, b]: how PHP encodes a list whose keys are not 0..n-1."""
    if value and all(key.isascii() and key.isdigit() for key in value):
        return [value[key] for key in sorted(value, key=int)]
    return None


def _query_fields(scope: Scope, declared: frozenset[str]) -> dict[str, Any]:
    """The query string's parameters that the route does not declare, brackets decoded."""
    query = scope.get("query_string", b"").decode("latin-1")
    if not query:
        return {}
    fields = _decode_form(query)
    return {key: value for key, value in fields.items() if key not in declared}


def _same(given: object, queried: object) -> bool:
    """A body value and a query value (always text) that say the same: 5 and "5"."""
    if given == queried:
        return True
    number = isinstance(given, int | float) and not isinstance(given, bool)
    return number and isinstance(queried, str) and str(given) == queried.strip()


def normalise_body(body: object, shape: BodyShape, query: Mapping[str, Any]) -> object:
    """The body the route declares, from what the client sent; raises a 422 naming the field.

    `query` holds the undeclared query-string parameters: merged into an object body (a
    value given in both places must be the same), refused on any other body.
    """
    if shape == "object":
        if body is None or body == []:
            body = {}
        if isinstance(body, dict):
            for key, value in query.items():
                if key in body and not _same(body[key], value):
                    raise InvalidInput.field(
                        key,
                        f"The {key} field is given in the query string and in the body, "
                        "with different values.",
                    )
                body[key] = value
        return body
    if query:
        field = next(iter(query))
        raise InvalidInput.field(field, f"The {field} query parameter is not allowed here.")
    if shape == "list":
        if body is None or body == {}:
            return []
        if isinstance(body, dict):
            listed = _as_list(body)
            return body if listed is None else listed
        return body
    if body in (None, [], {}):
        return None
    if isinstance(body, dict):
        field = next(iter(body))
        raise InvalidInput.field(field, f"The {field} field is not allowed.")
    raise InvalidInput.field("body", "This request takes no body.")


# --- The route class ----------------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _declared_shape(route: APIRoute) -> BodyShape:
    """What the route's body is: from its body parameter, else from its documented body.

    "form": the route reads form fields itself (`Form()` parameters, an HTML page's POST);
    its body is left as it came.
    """
    if route.body_field is not None:
        if isinstance(route.body_field.field_info, params.Form):
            return "form"
        annotation = _unwrap(route.body_field.field_info.annotation)
        if get_origin(annotation) is list or annotation is list:
            return "list"
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return "object"
        return "object" if get_origin(annotation) in (dict, Mapping) else "list"
    documented = (route.openapi_extra or {}).get("requestBody", {})
    for content in documented.get("content", {}).values():
        if content.get("schema", {}).get("type") == "object":
            return "object"
    return "none"


def _query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters a route declares, its dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return frozenset(names)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class LenientRoute(APIRoute):
    """An APIRoute that reads its body and query string as PHP and Laravel clients send them.

    Routes that parse their body themselves (the exports) declare it in `openapi_extra`
    as an object schema; they then receive the normalised JSON through `request.body()`.

    A plain `def` endpoint runs in the request path's own thread pool (`threadpool.py`, a
    cheaper hop than FastAPI's), so routes stay plain functions that may block; work that a
    middleware left for the route's thread (the key check) runs there first.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, route_endpoint(endpoint), **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        shape = _declared_shape(self)
        declared = _query_names(self.dependant)

        async def lenient_handler(request: Request) -> Response:
            if request.method in _READ_METHODS:
                return await handler(request)
            query = _query_fields(request.scope, declared)
            if shape == "form":
                if query:
                    field = next(iter(query))
                    problem = f"The {field} query parameter is not allowed here."
                    raise InvalidInput.field(field, problem)
                return await handler(request)
            sent = await _read_body(request)
            body = normalise_body(sent, shape, query)
            if body is sent and not query and (sent is None or _is_json(request)):
                # JSON as the route reads it already (most requests): no copy of the request.
                return await handler(request)
            raw = b"" if body is None else orjson.dumps(body)
            headers = [
                (name, value)
                for name, value in request.scope["headers"]
                if name not in (b"content-type", b"content-length")
            ]
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
            ]
            scope = {**request.scope, "headers": headers}
            return await handler(Request(scope, _replay(raw, request.receive)))

        return lenient_handler


# A path parameter's group in a route's pattern (starlette's compile_path).
_PATH_PARAMETER = re.compile(r"\(\?P<\w+>")


def _route_ends(routes: list[BaseRoute]) -> re.Pattern[str] | None:
    """What a path that one of `routes` matches ends with, wherever the router is included;
    None when a route has no pattern of its own (a mount, an included router)."""
    patterns = []
    for route in routes:
        if not isinstance(route, Route):
            return None
        pattern = route.path_regex.pattern.removeprefix("^").removesuffix("$")
        patterns.append(_PATH_PARAMETER.sub("(?:", pattern))
    return re.compile("(?:" + "|".join(patterns) + ")$")


class _ApiRouter(APIRouter):
    """An APIRouter that rules itself out for a path with one regular expression.

    The app tries its included routers in turn, and FastAPI tries each one's routes one by
    one, a few microseconds of Python each: a request for the fifth router paid for the
    routes of the four before it (a cart's step ~30 us, GET /healthz after all of them
    113 us). A path that no route of this router can end with is not this router's,
    whatever prefix it is included at; any other is matched as before.
    """

    # The expression, and the routes it was made of (their number and the last one's id:
    # routes are only ever appended, so that tells a change in O(1), where a tuple of every
    # route's id, made per request and router, was 4% of the event loop's samples).
    _ends: tuple[tuple[int, int], re.Pattern[str] | None] = ((0, 0), None)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            routes = self.routes
            made_of = (len(routes), id(routes[-1]) if routes else 0)
            if self._ends[0] != made_of:
                self._ends = (made_of, _route_ends(routes))
            ends = self._ends[1]
            if ends is not None and ends.search(scope["path"]) is None:
                return Match.NONE, {}
        return super().matches(scope)


def api_router(*, route_class: type[APIRoute] = LenientRoute, **kwargs: Any) -> APIRouter:
    """An APIRouter that rules itself out for a path none of its routes can end with, its
    routes reading lenient input; every API router is made with it, and the shop's (whose
    routes read forms: its own `route_class`)."""
    return _ApiRouter(route_class=route_class, **kwargs)


# --- Trailing slashes ---------------------------------------------------------------------


class TrailingSlashMiddleware:
    """`/v1/x/peppered/export/orders/` is `/v1/x/peppered/export/orders`: the same answer,
    not a redirect (PHP's HTTP clients do not repeat a POST body after a 307)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                stripped = path.rstrip("/") or "/"
                scope = {**scope, "path": stripped}
                raw_path = scope.get("raw_path")
                if isinstance(raw_path, bytes):
                    scope["raw_path"] = raw_path.rstrip(b"/") or b"/"
        await self.app(scope, receive, send)
