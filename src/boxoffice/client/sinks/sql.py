"""The SQL sinks' shared logic: one schema, upserts by primary key, one transaction a batch."""

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from boxoffice.client.schema import (
    ALL_TABLES,
    REJECTED_RECORDS,
    STREAM_TABLES,
    SYNC_STATE,
    Kind,
    Table,
)
from boxoffice.client.sinks.base import Batch, Row, TableChange
from boxoffice.client.state import StreamState
from boxoffice.client.testhooks import crash_point

_CHUNK = 500


# The storage type of each kind, per database: one row a kind. SQLite has no timestamp
# type: UTC instants are ISO text ending in Z, which sorts in time order and which
# SQLite's date functions read.
_TYPES: dict[Kind, tuple[str, str, str]] = {
    #            sqlite     duckdb     postgresql
    Kind.INT: ("INTEGER", "BIGINT", "BIGINT"),
    Kind.TEXT: ("TEXT", "VARCHAR", "TEXT"),
    Kind.CENTS: ("INTEGER", "BIGINT", "BIGINT"),
    Kind.BOOL: ("INTEGER", "BOOLEAN", "BOOLEAN"),
    Kind.UTC: ("TEXT", "TIMESTAMPTZ", "TIMESTAMPTZ"),
}
_DATABASES = ("sqlite", "duckdb", "postgresql")


def storage_types(database: str) -> dict[Kind, str]:
    """The column type of each kind in `database` (sqlite, duckdb or postgresql)."""
    index = _DATABASES.index(database)
    return {kind: types[index] for kind, types in _TYPES.items()}


def quote(name: str) -> str:
    return f'"{name}"'


class SqlSink(ABC):
    """A copy in a SQL database reached through a DB-API connection."""

    placeholder = "?"
    types: dict[Kind, str]

    def __init__(self, display: str) -> None:
        self._display = display

    @property
    def display(self) -> str:
        return self._display

    # -- what each database does its own way ------------------------------------------

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    # The statement that starts a write transaction (SQLite takes the write lock at once).
    begin = "BEGIN"

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._execute(self.begin)
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        self._execute("COMMIT")

    def _rollback(self) -> None:
        self._execute("ROLLBACK")

    def _to_db(self, table: Table, rows: Sequence[Row]) -> Sequence[Row]:
        """Values as the driver stores them (SQLite has no boolean or timestamp type)."""
        return rows

    def _from_db(self, table: Table, row: Row) -> Row:
        return row

    # -- schema --------------------------------------------------------------------------

    def create_schema(self) -> None:
        with self._transaction():
            for table in ALL_TABLES:
                self._execute(self.ddl(table))

    def ddl(self, table: Table) -> str:
        columns = [
            f"{quote(c.name)} {self.types[c.kind]}{'' if c.nullable else ' NOT NULL'}"
            for c in table.columns
        ]
        key = ", ".join(quote(k) for k in table.key)
        return (
            f"CREATE TABLE IF NOT EXISTS {quote(table.name)} "
            f"({', '.join(columns)}, PRIMARY KEY ({key}))"
        )

    def upsert_sql(self, table: Table, values: str) -> str:
        """INSERT ... ON CONFLICT (key) DO UPDATE: one statement in all three databases."""
        names = ", ".join(quote(c) for c in table.column_names)
        key = ", ".join(quote(k) for k in table.key)
        rest = [c for c in table.column_names if c not in table.key]
        action = (
            "DO UPDATE SET " + ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in rest)
            if rest
            else "DO NOTHING"
        )
        return f"INSERT INTO {quote(table.name)} ({names}) {values} ON CONFLICT ({key}) {action}"

    # -- writing -------------------------------------------------------------------------

    def commit(self, batch: Batch) -> None:
        with self._transaction():
            for change in batch.changes:
                self._apply(change)
            self._save_state(batch.state)
            # Test hook: everything is written, nothing is committed yet.
            crash_point("before_commit")
        crash_point("after_commit")

    def _apply(self, change: TableChange) -> None:
        table = change.table
        if change.clear:
            self._execute(f"DELETE FROM {quote(table.name)}")
        if change.delete_keys:
            self._delete(table, change.delete_by, change.delete_keys)
        if change.rows:
            self._upsert(table, change.rows)

    def _delete(self, table: Table, columns: tuple[str, ...], keys: Sequence[Row]) -> None:
        where = " AND ".join(f"{quote(c)} = {self.placeholder}" for c in columns)
        self._executemany(f"DELETE FROM {quote(table.name)} WHERE {where}", keys)

    def _upsert(self, table: Table, rows: Sequence[Row]) -> None:
        marks = ", ".join([self.placeholder] * len(table.columns))
        self._executemany(self.upsert_sql(table, f"VALUES ({marks})"), self._to_db(table, rows))

    def _save_state(self, state: StreamState) -> None:
        self._upsert(SYNC_STATE, [state.to_row()])

    # -- reading -------------------------------------------------------------------------

    def load_states(self) -> dict[str, StreamState]:
        names = ", ".join(quote(c) for c in SYNC_STATE.column_names)
        rows = self._execute(f"SELECT {names} FROM {quote(SYNC_STATE.name)}")
        states = [StreamState.from_row(self._from_db(SYNC_STATE, tuple(r))) for r in rows]
        return {s.stream: s for s in states}

    def versions(self, stream: str, ids: Sequence[int]) -> dict[int, str | None]:
        table = STREAM_TABLES[stream][0]
        key = table.key[0]
        found: dict[int, str | None] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = list(ids[start : start + _CHUNK])
            marks = ", ".join([self.placeholder] * len(chunk))
            sql = (
                f"SELECT {quote(key)}, {quote('last_changed')} FROM {quote(table.name)} "
                f"WHERE {quote(key)} IN ({marks})"
            )
            for record_id, last_changed in self._execute(sql, chunk):
                found[int(record_id)] = last_changed
        return found

    def rejected_ids(self, stream: str) -> set[str]:
        sql = (
            f"SELECT {quote('record_id')} FROM {quote(REJECTED_RECORDS.name)} "
            f"WHERE {quote('stream')} = {self.placeholder}"
        )
        return {str(r[0]) for r in self._execute(sql, [stream])}

    def count_rejected(self) -> dict[str, int]:
        sql = (
            f"SELECT {quote('stream')}, count(*) FROM {quote(REJECTED_RECORDS.name)} "
            f"GROUP BY {quote('stream')}"
        )
        return {str(stream): int(n) for stream, n in self._execute(sql)}

    def finish_stream(self, stream: str) -> int:
        table = STREAM_TABLES[stream][0]
        return int(self._execute(f"SELECT count(*) FROM {quote(table.name)}")[0][0])

    def reset(self, streams: Sequence[str], *, drop_data: bool) -> None:
        with self._transaction():
            for stream in streams:
                where = f"WHERE {quote('stream')} = {self.placeholder}"
                self._execute(f"DELETE FROM {quote(SYNC_STATE.name)} {where}", [stream])
                self._execute(f"DELETE FROM {quote(REJECTED_RECORDS.name)} {where}", [stream])
                if drop_data:
                    for table in STREAM_TABLES[stream]:
                        self._execute(f"DELETE FROM {quote(table.name)}")
