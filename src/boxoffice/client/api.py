"""Typed calls to a Peppered-compatible server over an injected httpx.Client.

Every failure is classified once, here: fatal (401, 422 and other 4xx, a response that is
not an export), retriable (429, 5xx, connection errors, timeouts, a broken body: retried
with jittered exponential backoff honouring Retry-After, bounded in attempts and time),
or, later and per record, a bad record (records.py). The key is sent on each request and
never appears in an error, a log line or a repr.
"""

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from boxoffice.client.errors import (
    AuthenticationFailed,
    ProtocolMismatch,
    RequestRejected,
    ResponseTooLarge,
    ServerUnavailable,
)
from boxoffice.client.redaction import redact

NDJSON = "application/x-ndjson"
EXPORT_PATHS = {
    "customers": "export/customers",
    "orders": "export/orders",
    "waitinglist": "export/waitinglist",
}
_ERROR_BODY_BYTES = 65_536
_RETRIABLE_STATUSES = frozenset({408, 425, 429})


class _Retriable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try one request: attempts in all, and seconds from the first attempt."""

    attempts: int = 8
    max_seconds: float = 600.0
    base_delay: float = 0.5
    max_delay: float = 60.0

    def delay(self, retry: int, rng: random.Random) -> float:
        """Exponential backoff with jitter: half fixed, half random, so clients spread out."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """One retry that is about to happen: after which failure, and after how long a pause."""

    what: str
    reason: str
    attempt: int
    delay: float


@dataclass(slots=True)
class ExportPage:
    """One export response: its records (parsed, numbers with a fraction as Decimal) and
    the extension headers, None when the server did not send them."""

    records: list[Any]
    watermark: str | None
    next_cursor: str | None
    server_date: datetime | None
    ndjson: bool
    retries: int = 0
    size: int = 0
    headers: dict[str, str] = field(default_factory=dict)


def loads(data: bytes | str) -> Any:
    """JSON with exact decimals: 24.50 becomes Decimal('24.50'), never a float."""
    return json.loads(data, parse_float=Decimal)


@dataclass(frozen=True, slots=True)
class _Call:
    """One request to make: what to send and how to read the answer."""

    method: str
    path: str
    body: dict[str, Any] | None
    ndjson: bool
    max_bytes: int | None


class PepperedApi:
    """The Peppered endpoints of one client on one server."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        base_url: str,
        client: str,
        key: str,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._http = http
        self.base = api_base(base_url, client)
        self._key = key
        self.retry = retry or RetryPolicy()
        self._timeout = timeout or httpx.Timeout(60.0, connect=15.0)
        self.on_retry = on_retry
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()

    def __repr__(self) -> str:
        return f"PepperedApi({self.base!r})"

    def client_types(self) -> ExportPage:
        """GET export/clienttypes: every tag name of the client."""
        return self._call(_Call("GET", "export/clienttypes", None, ndjson=False, max_bytes=None))

    def export(
        self,
        stream: str,
        body: dict[str, Any],
        *,
        ndjson: bool = True,
        max_bytes: int | None = None,
    ) -> ExportPage:
        """POST one export request; asks for NDJSON (and gzip), understands either answer."""
        return self._call(_Call("POST", EXPORT_PATHS[stream], body, ndjson, max_bytes))

    def _call(self, call: "_Call") -> ExportPage:
        """One request, retried while its failures are retriable and the budget allows."""
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                page = self._attempt(call)
            except _Retriable as failure:
                failure.reason = redact(failure.reason, self._key)
                delay = self._next_delay(failure, attempt, started)
                if delay is None:
                    raise ServerUnavailable(
                        f"{call.method} {call.path} failed {attempt} times; last: {failure.reason}"
                    ) from None
                if self.on_retry is not None:
                    self.on_retry(RetryEvent(call.path, failure.reason, attempt, delay))
                self._sleep(delay)
                continue
            page.retries = attempt - 1
            return page

    def _next_delay(self, failure: _Retriable, attempt: int, started: float) -> float | None:
        if attempt >= self.retry.attempts:
            return None
        delay = self.retry.delay(attempt, self._rng)
        if failure.retry_after is not None:
            # The server said when to come back: never sooner, whatever the backoff says.
            delay = max(delay, failure.retry_after)
        if self._clock() - started + delay > self.retry.max_seconds:
            return None
        return delay

    def _attempt(self, call: "_Call") -> ExportPage:
        headers = {
            "Authorization": self._key,
            "Accept": f"{NDJSON}, application/json;q=0.5" if call.ndjson else "application/json",
            "Accept-Encoding": "gzip",
        }
        url = f"{self.base}/{call.path}"
        content = None if call.body is None else json.dumps(call.body).encode()
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            with self._http.stream(
                call.method, url, content=content, headers=headers, timeout=self._timeout
            ) as response:
                if response.status_code != 200:
                    self._fail(response, call.path)
                return self._read(response, call.max_bytes)
        except httpx.TimeoutException as exc:
            raise _Retriable(f"timeout ({type(exc).__name__})") from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise _Retriable(f"connection error ({type(exc).__name__}: {exc})") from None

    def _fail(self, response: httpx.Response, path: str) -> None:
        status = response.status_code
        data = _read_error_body(response)
        message = data.get("message") if isinstance(data, dict) else None
        summary = f"{status} {message}" if isinstance(message, str) else str(status)
        if status == 401:
            raise AuthenticationFailed(
                f"the server refused the key for {self.base} (401): check the key and "
                "the client name"
            )
        if status in _RETRIABLE_STATUSES or status >= 500:
            raise _Retriable(f"HTTP {summary}", _retry_after(response))
        if 300 <= status < 400:
            location = response.headers.get("location", "?")
            raise RequestRejected(
                f"{path}: the server redirects to {location}; use that address as --url",
                status=status,
            )
        errors = data.get("errors") if isinstance(data, dict) else None
        clean: dict[str, list[str]] = {}
        if isinstance(errors, dict):
            for name, problems in errors.items():
                if isinstance(problems, list):
                    clean[str(name)] = [str(p) for p in problems]
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in clean.items())
        raise RequestRejected(
            f"{path} was refused: {summary}" + (f" ({details})" if details else ""),
            status=status,
            errors=clean,
        )

    def _read(self, response: httpx.Response, max_bytes: int | None) -> ExportPage:
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if max_bytes is not None and len(body) > max_bytes:
                raise ResponseTooLarge(
                    f"the response is larger than {max_bytes} bytes",
                    records=_leading_records(bytes(body)),
                    watermark=response.headers.get("x-sync-watermark"),
                )
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        ndjson = content_type == NDJSON
        if content_type and not ndjson and "json" not in content_type:
            raise ProtocolMismatch(
                f"{response.url.path} answered {content_type}, not JSON; is --url right?"
            )
        try:
            if ndjson:
                records = [loads(line) for line in bytes(body).splitlines() if line.strip()]
            else:
                data = loads(bytes(body))
                if not isinstance(data, list):
                    raise ProtocolMismatch(
                        f"{response.url.path} did not return a JSON array "
                        f"(Content-Type {content_type or 'none'}); is --url right?"
                    )
                records = data
        except (ValueError, UnicodeDecodeError) as exc:
            # A body cut short by a proxy or a dying server: reading it again may work.
            raise _Retriable(f"unreadable body ({exc})") from None
        return ExportPage(
            records=records,
            watermark=response.headers.get("x-sync-watermark"),
            next_cursor=response.headers.get("x-next-cursor"),
            server_date=_date_header(response),
            ndjson=ndjson,
            size=len(body),
            headers=dict(response.headers),
        )


def api_base(url: str, client: str) -> str:
    """The Peppered base of a client: accepts the server root or the full base path."""
    root = url.rstrip("/")
    if root.endswith("/peppered"):
        return root
    return f"{root}/v1/{quote(client, safe='')}/peppered"


def _read_error_body(response: httpx.Response) -> Any:
    body = bytearray()
    try:
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > _ERROR_BODY_BYTES:
                break
        return loads(bytes(body))
    except (httpx.HTTPError, ValueError, UnicodeDecodeError):
        return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _date_header(response: httpx.Response) -> datetime | None:
    value = response.headers.get("date")
    if value is None:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _leading_records(prefix: bytes) -> list[Any]:
    """The complete records at the start of a partial JSON array or NDJSON body."""
    text = prefix.decode("utf-8", errors="ignore").lstrip()
    decoder = json.JSONDecoder(parse_float=Decimal)
    records: list[Any] = []
    position = 1 if text.startswith("[") else 0
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        try:
            record, position = decoder.raw_decode(text, position)
        except ValueError:
            return records
        records.append(record)
