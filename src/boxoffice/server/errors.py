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


class Unauthenticated(AppError):
    status_code = 401
    code = "unauthenticated"

    def __init__(self) -> None:
        super().__init__("Unauthenticated.", headers={"WWW-Authenticate": 'Basic realm="peppered"'})


class NotFound(AppError):
    status_code = 404
    code = "not_found"

    def __init__(self, what: str | None = None) -> None:
        super().__init__("Not found." if what is None else f"{what} not found.")


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class Gone(AppError):
    status_code = 410
    code = "gone"


class MethodNotAllowed(AppError):
    status_code = 405
    code = "method_not_allowed"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class TooManyRequests(AppError):
    """A 429; `headers` carry Retry-After and the RateLimit-* fields."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("Too many requests.", headers=headers)


class ServerError(AppError):
    """A 500: never a stack trace in the response; the server log has it."""

    status_code = 500
    code = "server_error"

    def __init__(self) -> None:
        super().__init__("Server error.")


class InvalidInput(AppError):
    """A 422 naming the offending field(s)."""

    status_code = 422
    code = "invalid_input"

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
