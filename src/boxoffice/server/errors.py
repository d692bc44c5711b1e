"""The error vocabulary: each AppError carries its HTTP status and a stable snake_case code.

One handler renders an AppError as the contract's JSON body ({message, errors?}); the
routes document the errors they answer with `NotFound.documented("Order not found.")`,
so the OpenAPI document is made from the same classes.
"""

from typing import Any

# The contract's error body, as the OpenAPI document shows it (components.schemas.Error).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["message"],
}
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

# A route's documented responses, as FastAPI's `responses=` takes them.
Responses = dict[int | str, dict[str, Any]]


class AppError(Exception):
    """Base of every expected error; rendered as the contract's JSON by one handler."""

    status_code = 400
    code = "bad_request"

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None) -> None:
        """`class Gone(AppError, status=410, code="gone")`: the vocabulary, one line each."""
        super().__init_subclass__()
        if status is not None:
            cls.status_code = status
        if code is not None:
            cls.code = code

    def __init__(
        self,
        message: str,
        *,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = headers

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body

    @classmethod
    def documented(cls, description: str) -> Responses:
        """This error as a route's documented response: {status: the OpenAPI response}.

        Combine several with `|`. The response names the stable code (`x-error-code`).
        """
        response = {"description": description, "content": _ERROR_CONTENT, "x-error-code": cls.code}
        return {cls.status_code: response}


class Unauthenticated(AppError, status=401, code="unauthenticated"):
    """The same 401 for every failure, so that it never tells whether a client exists."""

    def __init__(self) -> None:
        super().__init__("Unauthenticated.", headers={"WWW-Authenticate": 'Basic realm="peppered"'})


class NotFound(AppError, status=404, code="not_found"):
    """`<what> not found.`: an id that does not exist for this client (or no route)."""

    def __init__(self, what: str | None = None) -> None:
        super().__init__("Not found." if what is None else f"{what} not found.")


class Conflict(AppError, status=409, code="conflict"):
    """The request fits the contract but not the current state (a place taken, a duplicate)."""


class Gone(AppError, status=410, code="gone"):
    """The resource existed and has expired (a cart past its timeOut)."""


class MethodNotAllowed(AppError, status=405, code="method_not_allowed"):
    """The path exists; the method does not."""


class PayloadTooLarge(AppError, status=413, code="payload_too_large"):
    """The body is larger than the configured limit."""


class TooManyRequests(AppError, status=429, code="too_many_requests"):
    """A 429; `headers` carry Retry-After and the RateLimit-* fields."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("Too many requests.", headers=headers)


class ServerError(AppError, status=500, code="server_error"):
    """A 500: never a stack trace in the response; the server log has it."""

    def __init__(self) -> None:
        super().__init__("Server error.")


class InvalidInput(AppError, status=422, code="invalid_input"):
    """A 422 naming the offending field(s)."""

    def __init__(self, errors: dict[str, list[str]], message: str | None = None) -> None:
        if message is None:
            _field, problems = next(iter(errors.items()))
            message = problems[0]
            extra = sum(len(p) for p in errors.values()) - 1
            if extra:
                message += f" (and {extra} more error{'s' if extra > 1 else ''})"
        super().__init__(message, errors=errors)

    @classmethod
    def field(cls, field: str, problem: str) -> "InvalidInput":
        return cls({field: [problem]})
