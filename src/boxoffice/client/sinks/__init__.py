"""Sinks: where the copy is kept. `open_sink` turns a --to target into one."""

from pathlib import Path

from boxoffice.client.errors import SinkBusy, SinkError, TargetError
from boxoffice.client.redaction import redact_url
from boxoffice.client.sinks.base import Batch, Sink, TableChange

DEFAULT_TARGET = "sqlite:///boxoffice-sync.db"
SCHEMES = ("sqlite:///", "duckdb:///", "parquet:///", "postgresql://")

__all__ = [
    "DEFAULT_TARGET",
    "Batch",
    "Sink",
    "SinkBusy",
    "SinkError",
    "TableChange",
    "display_target",
    "open_sink",
]


def display_target(target: str) -> str:
    """The target without its password, fit to print."""
    return redact_url(target)


def _path(target: str, scheme: str) -> Path:
    rest = target[len(scheme) :]
    if not rest:
        raise TargetError(f"{target!r} names no path")
    return Path(rest)


def open_sink(target: str, *, lock: bool = True) -> Sink:
    """The sink of `target`; `lock=False` only reads (for `sync status` during a run)."""
    if target.startswith("sqlite:///"):
        from boxoffice.client.sinks.sqlite import SqliteSink

        return SqliteSink(_path(target, "sqlite:///"), lock=lock)
    if target.startswith("duckdb:///"):
        from boxoffice.client.sinks.duckdb import DuckDbSink

        return DuckDbSink(_path(target, "duckdb:///"))
    if target.startswith("parquet:///"):
        from boxoffice.client.sinks.parquet import ParquetSink

        return ParquetSink(_path(target, "parquet:///"), lock=lock)
    for scheme in ("postgresql://", "postgres://", "postgresql+psycopg://"):
        if target.startswith(scheme):
            from boxoffice.client.sinks.postgresql import PostgresSink

            url = "postgresql://" + target[len(scheme) :]
            return PostgresSink(url, display_target(url), lock=lock)
    raise TargetError(
        f"unknown target {display_target(target)!r}: use sqlite:///PATH, duckdb:///PATH, "
        "postgresql://... or parquet:///DIR"
    )
