"""The AppError tree: each error carries its HTTP status and a stable code."""

from typing import Any


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


class Unauthenticated(AppError):
    status_code = 401
    code = "unauthenticated"

    def __init__(self) -> None:
        super().__init__("Unauthenticated.", headers={"WWW-Authenticate": 'Basic realm="peppered"'})


class NotFound(AppError):
    status_code = 404
    code = "not_found"

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found.")


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class Gone(AppError):
    status_code = 410
    code = "gone"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


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
