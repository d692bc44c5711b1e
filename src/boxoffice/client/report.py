"""What a sync run reports: per stream counts for the summary, and the progress observer."""

from dataclasses import dataclass, field
from typing import Any, Protocol

from boxoffice.client.api import RetryEvent


@dataclass(slots=True)
class StreamReport:
    stream: str
    status: str = "pending"
    mode: str | None = None
    records: int = 0
    pages: int = 0
    retries: int = 0
    duplicates: int = 0
    rejected: int = 0
    watermark: str | None = None
    rows: int | None = None
    seconds: float = 0.0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "mode": self.mode,
            "records": self.records,
            "pages": self.pages,
            "retries": self.retries,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "watermark": self.watermark,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


@dataclass(slots=True)
class SyncReport:
    streams: dict[str, StreamReport] = field(default_factory=dict)
    # Rows in rejected_records after the run, per stream (not only this run's).
    rejected_stored: dict[str, int] = field(default_factory=dict)
    error: Exception | None = None


class Observer(Protocol):
    """Told what happens, for a progress display; must not fail."""

    def stream_started(self, stream: str) -> None: ...

    def page_done(self, stream: str, records: int) -> None: ...

    def retrying(self, stream: str, event: RetryEvent) -> None: ...

    def stream_finished(self, report: StreamReport) -> None: ...


class Quiet:
    """The observer when nobody watches."""

    def stream_started(self, stream: str) -> None:
        pass

    def page_done(self, stream: str, records: int) -> None:
        pass

    def retrying(self, stream: str, event: RetryEvent) -> None:
        pass

    def stream_finished(self, report: StreamReport) -> None:
        pass
