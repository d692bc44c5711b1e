"""The DuckDB sink: rows go in as Arrow tables, since DuckDB's row-at-a-time inserts crawl."""

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from boxoffice.client.errors import SinkBusy, SinkError
from boxoffice.client.schema import Table
from boxoffice.client.sinks.arrow import arrow_table
from boxoffice.client.sinks.base import Row
from boxoffice.client.sinks.sql import SqlSink, quote, storage_types

_views = itertools.count(1)


class DuckDbSink(SqlSink):
    placeholder = "?"
    begin = "BEGIN TRANSACTION"
    types = storage_types("duckdb")

    def __init__(self, path: Path | None) -> None:
        """A file (one process at a time: DuckDB locks it), or None for an in-memory copy."""
        super().__init__(f"duckdb:///{path}" if path else "duckdb:///:memory:")
        self._path = path
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = duckdb.connect(str(path) if path else ":memory:")
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise SinkBusy(f"another process has {path} open: {exc}") from None
            raise SinkError(f"cannot open {path}: {exc}") from None
        except (duckdb.Error, OSError) as exc:
            raise SinkError(f"cannot open {path}: {exc}") from None
        self._conn.execute("SET TimeZone = 'UTC'")
        self.create_schema()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        return self._conn

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, list(params)).fetchall()
        except duckdb.Error as exc:
            raise SinkError(f"cannot use {self.display}: {exc}") from exc

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._conn.executemany(sql, [list(r) for r in rows])
        except duckdb.Error as exc:
            raise SinkError(f"cannot write {self.display}: {exc}") from exc

    def _rollback(self) -> None:
        # Straight to the connection: the error that caused the rollback is the one to see.
        self._conn.execute("ROLLBACK")

    @contextmanager
    def _view(self, table: Table, rows: Sequence[Row], columns: Sequence[str]) -> Iterator[str]:
        name = f"batch_{next(_views)}"
        self._conn.register(name, arrow_table(table, rows, columns))
        try:
            yield name
        finally:
            self._conn.unregister(name)

    def _upsert(self, table: Table, rows: Sequence[Row]) -> None:
        names = ", ".join(quote(c) for c in table.column_names)
        with self._view(table, rows, table.column_names) as view:
            self._execute(self.upsert_sql(table, f"SELECT {names} FROM {view}"))

    def _delete(self, table: Table, columns: tuple[str, ...], keys: Sequence[Row]) -> None:
        with self._view(table, keys, columns) as view:
            match = " AND ".join(f"t.{quote(c)} = k.{quote(c)}" for c in columns)
            self._execute(f"DELETE FROM {quote(table.name)} AS t USING {view} AS k WHERE {match}")

    def close(self) -> None:
        self._conn.close()

    def discard(self) -> None:
        # Unlinked while this connection still holds DuckDB's file lock, then closed: DuckDB
        # writes nothing back by name on close, so nothing is left.
        if self._path is not None:
            for suffix in ("", ".wal"):
                self._path.with_name(self._path.name + suffix).unlink(missing_ok=True)
        self._conn.close()
