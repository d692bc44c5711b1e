"""The Parquet sink: one file per table, batches as part files, state in an atomic JSON file.

Layout of the target directory:

    <table>.parquet        each table of the copy, as of the last completed stream
    sync_state.json        the state: per stream, and the batches not yet merged ("pending")
    _batches/<seq>/        one committed batch: its changes as Parquet files + manifest.json
    .sync-lock             held by the running sync

A batch is committed by writing its directory under a temporary name, renaming it to its
sequence number, and then atomically replacing sync_state.json with a state that lists it.
A batch directory that the state does not list was never committed and is deleted at the
next start. When a stream ends, its tables are rebuilt from the table files and the pending
batches (in an in-memory DuckDB), each file replaced by rename, and only then is the state
saved without those batches. Applying a batch twice gives the same rows as applying it once
(upserts by key, child sets replaced whole), so a run killed anywhere in this merge simply
merges again at its next start.
"""

import contextlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from boxoffice.client.errors import SinkError
from boxoffice.client.schema import DATA_TABLES, REJECTED_RECORDS, STREAM_TABLES, TABLES
from boxoffice.client.sinks.arrow import arrow_schema, arrow_table
from boxoffice.client.sinks.base import Batch, Row, TableChange
from boxoffice.client.sinks.duckdb import DuckDbSink
from boxoffice.client.sinks.locks import RunLock
from boxoffice.client.sinks.sql import quote
from boxoffice.client.state import StreamState, dump_json, fsync_dir, write_atomically
from boxoffice.client.testhooks import crash_point

STATE_FILE = "sync_state.json"
LOCK_FILE = ".sync-lock"
BATCHES = "_batches"
FORMAT = 1


@dataclass(slots=True)
class _FileState:
    streams: dict[str, StreamState]
    next_batch: int
    pending: list[int]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "next_batch": self.next_batch,
            "pending": self.pending,
            "streams": {name: s.to_json() for name, s in sorted(self.streams.items())},
        }


class ParquetSink:
    def __init__(self, directory: Path, *, lock: bool = True) -> None:
        """Opens the copy; without `lock` it only reads, and repairs nothing."""
        self.dir = directory
        self._display = f"parquet:///{directory}"
        self._lock: RunLock | None = None
        self._work: DuckDbSink | None = None
        if not lock:
            self._state = self._read_state()
            return
        try:
            directory.mkdir(parents=True, exist_ok=True)
            (directory / BATCHES).mkdir(exist_ok=True)
            self._lock = RunLock(directory / LOCK_FILE)
        except OSError as exc:
            raise SinkError(f"cannot use {directory}: {exc}") from None
        self._state = self._read_state()
        self._remove_uncommitted()
        for table in DATA_TABLES:
            if not self._table_path(table.name).exists():
                self._write_table(table.name, arrow_schema(table).empty_table())
        if self._state.pending:
            # A run stopped before it merged its batches: merge them now, so the table
            # files are complete before anything else happens.
            self._merge([t.name for t in DATA_TABLES])

    @property
    def display(self) -> str:
        return self._display

    # -- files -----------------------------------------------------------------------

    def _table_path(self, name: str) -> Path:
        return self.dir / f"{name}.parquet"

    def _batch_dir(self, seq: int) -> Path:
        return self.dir / BATCHES / f"{seq:012d}"

    def _read_state(self) -> _FileState:
        path = self.dir / STATE_FILE
        if not path.exists():
            return _FileState(streams={}, next_batch=1, pending=[])
        try:
            data = json.loads(path.read_text())
            return _FileState(
                streams={k: StreamState.from_json(v) for k, v in data["streams"].items()},
                next_batch=int(data["next_batch"]),
                pending=[int(s) for s in data["pending"]],
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SinkError(f"cannot read {path}: {exc}") from None

    def _save_state(self) -> None:
        write_atomically(self.dir / STATE_FILE, dump_json(self._state.to_json()))

    def _remove_uncommitted(self) -> None:
        committed = {self._batch_dir(s).name for s in self._state.pending}
        for entry in (self.dir / BATCHES).iterdir():
            if entry.name not in committed:
                shutil.rmtree(entry, ignore_errors=True)
        for stray in self.dir.glob(".*.tmp"):
            stray.unlink(missing_ok=True)

    def _write_table(self, name: str, data: pa.Table) -> None:
        """Replace a table file by rename: readers see the old file or the new one."""
        path = self._table_path(name)
        tmp = path.with_name(f".{path.name}.tmp")
        pq.write_table(data, tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        tmp.replace(path)
        fsync_dir(self.dir)

    # -- the in-memory working copy ----------------------------------------------------

    def _working_copy(self) -> DuckDbSink:
        """The copy as base files + pending batches, in an in-memory DuckDB (built once)."""
        if self._work is None:
            work = DuckDbSink(None)
            conn = work.connection
            # Lets DuckDB spill to disk when a table is larger than memory.
            spill = str(self.dir / "_tmp").replace("'", "''")
            conn.execute(f"SET temp_directory = '{spill}'")
            for table in DATA_TABLES:
                names = ", ".join(quote(c) for c in table.column_names)
                path = str(self._table_path(table.name))
                conn.execute(
                    f"INSERT INTO {quote(table.name)} ({names}) "
                    f"SELECT {names} FROM read_parquet(?)",
                    [path],
                )
            for seq in self._state.pending:
                for change in self._read_batch(seq):
                    work._apply(change)
            self._work = work
        return self._work

    def _read_batch(self, seq: int) -> list[TableChange]:
        directory = self._batch_dir(seq)
        manifest = json.loads((directory / "manifest.json").read_text())
        changes = []
        for item in manifest["changes"]:
            table = TABLES[item["table"]]
            rows: list[Row] = []
            keys: list[Row] = []
            if item["rows"]:
                rows = _rows(pq.read_table(directory / item["rows"]), table.column_names)
            if item["deletes"]:
                keys = _rows(pq.read_table(directory / item["deletes"]), item["delete_by"])
            changes.append(
                TableChange(
                    table=table,
                    rows=rows,
                    clear=bool(item["clear"]),
                    delete_by=tuple(item["delete_by"]),
                    delete_keys=keys,
                )
            )
        return changes

    # -- the Sink protocol -------------------------------------------------------------

    def load_states(self) -> dict[str, StreamState]:
        return dict(self._state.streams)

    def versions(self, stream: str, ids: Sequence[int]) -> dict[int, str | None]:
        return self._working_copy().versions(stream, ids)

    def rejected_ids(self, stream: str) -> set[str]:
        return self._working_copy().rejected_ids(stream)

    def count_rejected(self) -> dict[str, int]:
        if self._lock is None:
            path = self._table_path(REJECTED_RECORDS.name)
            if not path.exists():
                return {}
            streams = pq.read_table(path, columns=["stream"]).column("stream").to_pylist()
            return {s: streams.count(s) for s in sorted(set(streams))}
        return self._working_copy().count_rejected()

    def commit(self, batch: Batch) -> None:
        if all(c.empty for c in batch.changes):
            # Only the state changes: the state file alone is the transaction.
            crash_point("before_commit")
            self._state.streams[batch.state.stream] = batch.state
            self._save_state()
            crash_point("after_commit")
            return
        seq = self._state.next_batch
        final = self._batch_dir(seq)
        tmp = final.with_name(f".tmp-{final.name}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        manifest: list[dict[str, Any]] = []
        for i, change in enumerate(c for c in batch.changes if not c.empty):
            entry: dict[str, Any] = {
                "table": change.table.name,
                "clear": change.clear,
                "delete_by": list(change.delete_by),
                "rows": None,
                "deletes": None,
            }
            if change.rows:
                entry["rows"] = f"{i}-{change.table.name}.parquet"
                pq.write_table(arrow_table(change.table, change.rows), tmp / entry["rows"])
            if change.delete_keys:
                entry["deletes"] = f"{i}-{change.table.name}.delete.parquet"
                keys = arrow_table(change.table, change.delete_keys, change.delete_by)
                pq.write_table(keys, tmp / entry["deletes"])
            manifest.append(entry)
        (tmp / "manifest.json").write_text(json.dumps({"seq": seq, "changes": manifest}))
        for path in tmp.iterdir():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        fsync_dir(tmp)
        tmp.rename(final)
        fsync_dir(final.parent)
        crash_point("before_commit")
        self._state.next_batch = seq + 1
        self._state.pending.append(seq)
        self._state.streams[batch.state.stream] = batch.state
        self._save_state()
        crash_point("after_commit")
        if self._work is not None:
            for change in batch.changes:
                self._work._apply(change)

    def finish_stream(self, stream: str) -> int:
        tables = [t.name for t in STREAM_TABLES[stream]] + [REJECTED_RECORDS.name]
        self._merge(tables)
        main = STREAM_TABLES[stream][0]
        conn = self._working_copy().connection
        row = conn.execute(f"SELECT count(*) FROM {quote(main.name)}").fetchone()
        return int(row[0]) if row else 0

    def _merge(self, tables: Sequence[str]) -> None:
        """Write the working copy's tables over the files, then forget the pending batches.

        Called when no other stream has pending batches (streams run one after another,
        and leftovers are merged at open), so every pending batch is in these tables.
        """
        conn = self._working_copy().connection
        for name in tables:
            table = TABLES[name]
            names = ", ".join(quote(c) for c in table.column_names)
            order = ", ".join(quote(k) for k in table.key)
            data = conn.sql(f"SELECT {names} FROM {quote(name)} ORDER BY {order}").to_arrow_table()
            self._write_table(name, data.cast(arrow_schema(table)))
            crash_point("compacting")
        done = list(self._state.pending)
        self._state.pending = []
        self._save_state()
        for seq in done:
            shutil.rmtree(self._batch_dir(seq), ignore_errors=True)

    def reset(self, streams: Sequence[str], *, drop_data: bool) -> None:
        work = self._working_copy()
        work.reset(streams, drop_data=drop_data)
        tables = {REJECTED_RECORDS.name}
        if drop_data:
            tables.update(t.name for s in streams for t in STREAM_TABLES[s])
        for stream in streams:
            self._state.streams.pop(stream, None)
        self._merge(sorted(tables))

    def close(self) -> None:
        if self._work is not None:
            self._work.close()
            self._work = None
        if self._lock is not None:
            self._lock.release()

    def discard(self) -> None:
        # Emptied while the run lock is held, then the lock (its last file) and the folder go.
        if self._work is not None:
            self._work.close()
            self._work = None
        for entry in self.dir.iterdir():
            if entry.name == LOCK_FILE:
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        if self._lock is not None:
            self._lock.release()
        with contextlib.suppress(OSError):
            self.dir.rmdir()


def _rows(data: pa.Table, columns: Sequence[str]) -> list[Row]:
    values = [data.column(name).to_pylist() for name in columns]
    return list(zip(*values, strict=True)) if values else []
