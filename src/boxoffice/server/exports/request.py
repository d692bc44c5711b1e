"""The export request body: changedSince, and the extensions changedUntil, limit and cursor.

Everything is checked here, before a snapshot is opened and long before the response
starts: once the first byte is sent the status is 200 and an error can no longer be told.
"""

from dataclasses import dataclass

import orjson

from boxoffice.server.config import Settings
from boxoffice.server.errors import InvalidInput
from boxoffice.server.exports.cursor import Cursor, CursorInvalid, decode_cursor, filter_digest
from boxoffice.server.lenient import integer_input
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.values.instants import parse_instant_input

MAX_LIMIT = 100_000
REFERENCE_FIELDS = frozenset({"changedSince"})
EXTENSION_FIELDS = frozenset({"changedUntil", "limit", "cursor"})


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """A parsed export body; instants are UTC microseconds, None means "not given"."""

    changed_since: int | None = None
    changed_until: int | None = None
    limit: int | None = None
    cursor: Cursor | None = None


def parse_export_body(
    raw: bytes, *, dataset: int, tenant: Tenant, settings: Settings
) -> ExportRequest:
    """Parse and check an export body, or raise one 422 naming every offending field.

    An empty body, or `{}`, asks for everything (the route has already read `[]`, `null`,
    form bodies and query-string parameters into this JSON: server/lenient.py). A field
    given as null counts as absent, as many JSON clients send optional fields that way.
    `dataset` is the export's cursor code, so that a cursor only continues its own export.
    """
    if not raw.strip():
        return ExportRequest()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput.field("body", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidInput.field("body", "The body must be a JSON object.")

    allowed = REFERENCE_FIELDS | EXTENSION_FIELDS if settings.extensions else REFERENCE_FIELDS
    errors: dict[str, list[str]] = {
        field: [f"The {field} field is not allowed."] for field in data if field not in allowed
    }

    def instant(field: str) -> int | None:
        value = data.get(field)
        if value is None:
            return None
        try:
            return parse_instant_input(value, field, tenant.timezone)
        except InvalidInput as exc:
            errors.update(exc.errors or {})
            return None

    since = instant("changedSince")
    until = instant("changedUntil") if "changedUntil" in allowed else None
    if since is not None and until is not None and until <= since:
        errors["changedUntil"] = ["The changedUntil must be later than the changedSince."]

    limit = None
    if "limit" in allowed:
        try:
            limit = integer_input(data.get("limit"), "limit", minimum=1, maximum=MAX_LIMIT)
        except InvalidInput as exc:
            errors.update(exc.errors or {})

    cursor = None
    token = data.get("cursor") if "cursor" in allowed else None
    if token is not None:
        cursor = _check_cursor(token, dataset, since, until, tenant, settings, errors)

    if errors:
        raise InvalidInput(errors)
    return ExportRequest(changed_since=since, changed_until=until, limit=limit, cursor=cursor)


def _check_cursor(
    token: object,
    dataset: int,
    since: int | None,
    until: int | None,
    tenant: Tenant,
    settings: Settings,
    errors: dict[str, list[str]],
) -> Cursor | None:
    if not isinstance(token, str):
        errors["cursor"] = ["The cursor must be the X-Next-Cursor value of the previous page."]
        return None
    try:
        cursor = decode_cursor(token, secret=settings.cursor_secret, tenant_id=tenant.id)
    except CursorInvalid:
        errors["cursor"] = ["The cursor is not valid: it is damaged or was not issued here."]
        return None
    if cursor.dataset != dataset:
        errors["cursor"] = ["The cursor belongs to another export."]
        return None
    # Compared only when the bounds themselves parsed: a bad date is already reported.
    bounds_ok = "changedSince" not in errors and "changedUntil" not in errors
    if bounds_ok and cursor.filter_digest != filter_digest(since, until):
        errors["cursor"] = [
            "The cursor was issued for a different changedSince or changedUntil; "
            "send the same body as for the previous page."
        ]
        return None
    return cursor
