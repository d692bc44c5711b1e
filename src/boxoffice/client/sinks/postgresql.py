"""The PostgreSQL sink (psycopg 3): NUMERIC-free, TIMESTAMPTZ instants, one run at a time."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from boxoffice.client.errors import SinkBusy, SinkError
from boxoffice.client.sinks.sql import SqlSink, storage_types


class PostgresSink(SqlSink):
    placeholder = "%s"
    types = storage_types("postgresql")

    def __init__(self, url: str, display: str, *, lock: bool = True) -> None:
        super().__init__(display)
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=15)
        except psycopg.Error as exc:
            raise SinkError(f"cannot connect to {display}: {_first_line(exc)}") from None
        # A session lock per schema: the copy's tables live in the current schema, so
        # that is what two runs must not share.
        if lock:
            locked = self._execute(
                "SELECT pg_try_advisory_lock(hashtext('boxoffice-sync:' || current_schema()))"
            )[0][0]
            if not locked:
                self._conn.close()
                raise SinkBusy(f"another sync is running on {display}")
        self.create_schema()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._conn.cursor() as cur:
                cur.execute(sql.encode(), params)
                return cur.fetchall() if cur.description is not None else []
        except psycopg.Error as exc:
            raise SinkError(f"cannot use {self.display}: {_first_line(exc)}") from exc

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            with self._conn.cursor() as cur:
                cur.executemany(sql.encode(), rows)
        except psycopg.Error as exc:
            raise SinkError(f"cannot write {self.display}: {_first_line(exc)}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        try:
            with self._conn.transaction():
                yield
        except psycopg.Error as exc:
            raise SinkError(f"cannot write {self.display}: {_first_line(exc)}") from exc

    def close(self) -> None:
        self._conn.close()

    def discard(self) -> None:
        # The database was there before the run; its (empty) tables are harmless.
        self.close()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
