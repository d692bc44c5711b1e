"""Every failure the sync client reports, in one tree; each message is safe to show."""

from typing import Any


class SyncError(Exception):
    """Base of every expected failure of a sync; no message holds the key."""


class ConfigError(SyncError):
    """The configuration cannot be used; the message says why (and never holds the key)."""


class SourceMismatch(SyncError):
    """The target holds a copy of another server or client."""


class TargetError(SyncError, ValueError):
    """A --to value that names no sink."""


class SinkError(SyncError):
    """The local copy cannot be opened or written (a bad target, a full disk, a lock)."""


class SinkBusy(SinkError):
    """Another sync is writing to the same target."""


class RecordError(SyncError, ValueError):
    """A record that cannot be stored as it is; the message names the field."""


class ApiError(SyncError):
    """Base of every failure of a call to the server."""


class AuthenticationFailed(ApiError):
    """401: the key is missing, wrong or revoked, or the client name is unknown."""


class RequestRejected(ApiError):
    """A 4xx other than 401 and 429: retrying the same request cannot help."""

    def __init__(
        self, message: str, *, status: int, errors: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors or {}


class ProtocolMismatch(ApiError):
    """The server answered 200 with something that is not an export (wrong URL, a proxy)."""


class ServerUnavailable(ApiError):
    """A retriable failure that persisted through every allowed attempt."""


class ResponseTooLarge(ApiError):
    """The body grew past the size allowed for one response; reading was stopped.

    `records` are the complete records at the start of what arrived: records come in
    lastChanged order, so they tell where the data of this range starts (and whether the
    server honoured changedUntil).
    """

    def __init__(
        self, message: str, *, records: list[Any] | None = None, watermark: str | None = None
    ) -> None:
        super().__init__(message)
        self.records = records or []
        self.watermark = watermark
