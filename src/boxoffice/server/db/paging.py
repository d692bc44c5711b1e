"""Keyset paging over (last_changed_at, id): positions, windows and the SQL that reads them.

Incremental reads never use OFFSET on the data: a page continues strictly after the
(last_changed_at, id) of the previous page's last row, so the cost of a page does not grow
with its distance from the start, and rows that share one last_changed_at (thousands, after
a bulk change) are still read exactly once, in id order.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Table, select, tuple_

from boxoffice.server.db.scoping import tenant_filter


@dataclass(frozen=True, slots=True)
class Position:
    """The place of one row in (last_changed_at, id) order."""

    changed_at: int
    id: int


@dataclass(frozen=True, slots=True)
class Window:
    """The rows with since <= last_changed_at < until, after `after` and up to `through`.

    `since` and `until` are instants (UTC microseconds); `after` is exclusive and `through`
    inclusive, both positions. None means unbounded on that side (`until` never is).
    """

    until: int
    since: int | None = None
    after: Position | None = None
    through: Position | None = None


def window_filter(table: Table, *, tenant_id: int, window: Window) -> list[ColumnElement[bool]]:
    """WHERE terms selecting the window's rows of one client.

    Every term is a range on the (tenant_id, last_changed_at, id) index, so SQLite and
    PostgreSQL both answer with an index range scan. The row-value comparison is what makes
    a batch start exactly after the previous row even within one shared last_changed_at.
    """
    changed, row_id = table.c.last_changed_at, table.c.id
    terms: list[ColumnElement[bool]] = [
        tenant_filter(table, tenant_id=tenant_id),
        changed < window.until,
    ]
    if window.since is not None:
        terms.append(changed >= window.since)
    if window.after is not None:
        terms.append(tuple_(changed, row_id) > tuple_(window.after.changed_at, window.after.id))
    if window.through is not None:
        terms.append(
            tuple_(changed, row_id) <= tuple_(window.through.changed_at, window.through.id)
        )
    return terms


def keyset_select(
    table: Table, columns: Sequence[ColumnElement[Any]], *, tenant_id: int, window: Window
) -> Select[Any]:
    """SELECT `columns` of the window's rows in (last_changed_at, id) order (add a LIMIT)."""
    return (
        select(*columns)
        .where(*window_filter(table, tenant_id=tenant_id, window=window))
        .order_by(table.c.last_changed_at, table.c.id)
    )


def positions_at(
    conn: Connection, table: Table, *, tenant_id: int, window: Window, offset: int
) -> list[Position]:
    """The positions of the window's rows number `offset` and `offset + 1` (0-based), if any.

    This is the one place OFFSET is used: to find where a page of `limit` rows ends, and
    whether any row follows it, before the page is streamed. It reads only the index.
    """
    stmt = (
        keyset_select(
            table, [table.c.last_changed_at, table.c.id], tenant_id=tenant_id, window=window
        )
        .offset(offset)
        .limit(2)
    )
    return [Position(changed_at=row[0], id=row[1]) for row in conn.execute(stmt)]
