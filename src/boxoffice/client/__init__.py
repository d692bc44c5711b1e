"""The sync client: keeps a local copy of a Peppered-compatible server; never imports server/.

The names below are its public API (what a program embedding the sync may use); every
other module and name is internal and may change. The `boxoffice sync` command is built on
the same names.
"""

from boxoffice.client.api import ExportPage, PepperedApi, RetryEvent, RetryPolicy
from boxoffice.client.config import FileConfig, load_config, resolve_key
from boxoffice.client.errors import (
    ApiError,
    AuthenticationFailed,
    ConfigError,
    ProtocolMismatch,
    RecordError,
    RequestRejected,
    ResponseTooLarge,
    ServerUnavailable,
    SinkBusy,
    SinkError,
    SourceMismatch,
    SyncError,
    TargetError,
)
from boxoffice.client.redaction import redact, redact_url
from boxoffice.client.report import Observer, StreamReport, SyncReport
from boxoffice.client.sinks import DEFAULT_TARGET, Sink, open_sink
from boxoffice.client.sync import Syncer, SyncOptions

__all__ = [
    "DEFAULT_TARGET",
    "ApiError",
    "AuthenticationFailed",
    "ConfigError",
    "ExportPage",
    "FileConfig",
    "Observer",
    "PepperedApi",
    "ProtocolMismatch",
    "RecordError",
    "RequestRejected",
    "ResponseTooLarge",
    "RetryEvent",
    "RetryPolicy",
    "ServerUnavailable",
    "Sink",
    "SinkBusy",
    "SinkError",
    "SourceMismatch",
    "StreamReport",
    "SyncError",
    "SyncOptions",
    "SyncReport",
    "Syncer",
    "TargetError",
    "load_config",
    "open_sink",
    "redact",
    "redact_url",
    "resolve_key",
]
