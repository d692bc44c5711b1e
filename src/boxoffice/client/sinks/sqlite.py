"""The default sink: a SQLite file (stdlib sqlite3, WAL, fully synchronous commits)."""

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from boxoffice.client.errors import SinkError
from boxoffice.client.schema import Kind, Table
from boxoffice.client.sinks.base import Row
from boxoffice.client.sinks.locks import RunLock
from boxoffice.client.sinks.sql import SqlSink, storage_types
from boxoffice.client.state import utc_text


class SqliteSink(SqlSink):
    placeholder = "?"
    begin = "BEGIN IMMEDIATE"
    types = storage_types("sqlite")

    def __init__(self, path: Path, *, lock: bool = True) -> None:
        super().__init__(f"sqlite:///{path}")
        self._path = path
        self._lock: RunLock | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if lock:
                self._lock = RunLock(path.with_name(path.name + ".sync-lock"))
        except OSError as exc:
            raise SinkError(f"cannot use {path}: {exc}") from None
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed batch survives a power cut, not only a killed process.
            self._conn.execute("PRAGMA synchronous=FULL")
            self.create_schema()
        except sqlite3.Error as exc:
            self.close()
            raise SinkError(f"cannot open {path}: {exc}") from None

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise SinkError(f"cannot use {self.display}: {exc}") from exc

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise SinkError(f"cannot write {self.display}: {exc}") from exc

    def _rollback(self) -> None:
        # Straight to the connection: the error that caused the rollback is the one to see.
        self._conn.execute("ROLLBACK")

    def _to_db(self, table: Table, rows: Sequence[Row]) -> Sequence[Row]:
        kinds = [c.kind for c in table.columns]
        if Kind.UTC not in kinds:
            return rows
        return [tuple(utc_text(v) if isinstance(v, datetime) else v for v in row) for row in rows]

    def close(self) -> None:
        if hasattr(self, "_conn"):
            self._conn.close()
        if self._lock is not None:
            self._lock.release()

    def discard(self) -> None:
        # Deleted while the run lock is held, so that no other run can have opened it.
        if hasattr(self, "_conn"):
            self._conn.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            self._path.with_name(self._path.name + suffix).unlink(missing_ok=True)
        if self._lock is not None:
            self._lock.release()
