"""Per-stream sync state (watermarks, cursors, last run) and how it is written atomically."""

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from boxoffice.client.schema import SYNC_STATE

# Where a stored watermark came from: the server's X-Sync-Watermark (repeats nothing), the
# largest lastChanged received (inclusive: repeats that instant's records), the start of
# the last date range when that range held nothing, or the server's Date header less a
# safety margin, for records that carry no lastChanged at all.
SERVER_WATERMARK = "server"
LAST_CHANGED = "last_changed"
RANGE_START = "range_start"
RESPONSE_DATE = "response_date"


_INSTANTS = ("last_run_started_at_utc", "last_run_finished_at_utc")


@dataclass(frozen=True, slots=True)
class StreamState:
    """Everything a run needs to continue where the previous one stopped.

    It is saved in the same local transaction as the page it follows, so that the copy and
    its state never disagree, whatever moment a run is killed at.
    """

    stream: str
    source: str
    watermark: str | None = None
    watermark_kind: str | None = None
    max_last_changed: str | None = None
    cursor: str | None = None
    cursor_since: str | None = None
    cursor_watermark: str | None = None
    range_from: str | None = None
    last_run_started_at_utc: datetime | None = None
    last_run_finished_at_utc: datetime | None = None
    last_run_status: str | None = None
    last_run_records: int = 0
    rows: int | None = None

    def evolve(self, **changes: Any) -> "StreamState":
        return replace(self, **changes)

    def to_row(self) -> tuple[Any, ...]:
        """The sync_state row, in SYNC_STATE column order."""
        values = asdict(self)
        return tuple(values[column] for column in SYNC_STATE.column_names)

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> "StreamState":
        values = dict(zip(SYNC_STATE.column_names, row, strict=True))
        for name in _INSTANTS:
            values[name] = as_utc(values[name])
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        values = asdict(self)
        for name in _INSTANTS:
            value = values[name]
            values[name] = None if value is None else utc_text(value)
        return values

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "StreamState":
        known = {f.name for f in fields(cls)}
        # State files written before the fields were named like the columns: `..._at`.
        renamed = {f"{k}_utc" if f"{k}_utc" in _INSTANTS else k: v for k, v in data.items()}
        values = {k: v for k, v in renamed.items() if k in known}
        for name in _INSTANTS:
            values[name] = as_utc(values.get(name))
        return cls(**values)


def utc_text(value: datetime) -> str:
    """An aware instant as ISO 8601 in UTC with a Z, which sorts as text in time order."""
    text = value.astimezone(UTC).replace(tzinfo=None).isoformat()
    return f"{text}Z"


def as_utc(value: object) -> datetime | None:
    """A stored instant back as an aware UTC datetime, whichever way the sink returned it."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise TypeError(f"not an instant: {value!r}")


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a reader (or a crash) sees the old or the new file.

    The bytes are flushed to disk before the rename and the rename before returning, so a
    power cut cannot leave an empty file behind either.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def dump_json(data: Any) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True).encode()
