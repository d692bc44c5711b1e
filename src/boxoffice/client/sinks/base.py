"""What every sink does: store batches of rows and the state that follows them, atomically."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from boxoffice.client.schema import Table
from boxoffice.client.state import StreamState

Row = tuple[Any, ...]


@dataclass(slots=True)
class TableChange:
    """What one batch does to one table, applied in this order: `clear` (a full refresh),
    delete the rows matching `delete_keys` on `delete_by`, then upsert `rows` by the key."""

    table: Table
    rows: list[Row] = field(default_factory=list)
    clear: bool = False
    delete_by: tuple[str, ...] = ()
    delete_keys: list[Row] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.rows or self.clear or self.delete_keys)


@dataclass(slots=True)
class Batch:
    """One page's changes and the stream state after it: committed together or not at all."""

    state: StreamState
    changes: list[TableChange] = field(default_factory=list)


class Sink(Protocol):
    """A local copy: SQLite, DuckDB, PostgreSQL or a directory of Parquet files."""

    @property
    def display(self) -> str:
        """The target as it may be shown: without a password."""
        ...

    def load_states(self) -> dict[str, StreamState]: ...

    def versions(self, stream: str, ids: Sequence[int]) -> dict[int, str | None]:
        """The stored lastChanged (as received) of those of `ids` that are in the copy."""
        ...

    def rejected_ids(self, stream: str) -> set[str]: ...

    def commit(self, batch: Batch) -> None:
        """Apply the batch and save its state in one local transaction."""
        ...

    def finish_stream(self, stream: str) -> int:
        """Called after a stream's last page: settles the copy; returns its row count."""
        ...

    def count_rejected(self) -> dict[str, int]: ...

    def reset(self, streams: Sequence[str], *, drop_data: bool) -> None: ...

    def close(self) -> None: ...

    def discard(self) -> None:
        """Close, and delete the copy's files (never a PostgreSQL copy's tables): only for a
        copy that this run created and stored nothing in."""
        ...
