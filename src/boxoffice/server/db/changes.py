"""Moving `last_changed_at` forward: never backwards, whatever order transactions commit in."""

from typing import Any

from sqlalchemy import ColumnElement, Table, Update, case, literal
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.types import BigInteger

from boxoffice.server.db.scoping import scoped_update


def advanced(column: "ColumnClause[int] | ColumnElement[int]", now: int) -> ColumnElement[int]:
    """The value to store on a change at `now`: max(current value, now).

    Two transactions can read the clock in one order and commit in the other; taking the
    maximum keeps every record's `lastChanged` monotonic (see db/transactions.py for why no
    change can be missed either way).
    """
    stamp = literal(now, BigInteger)
    return case((column > stamp, column), else_=stamp)


def changed(
    table: Table, *where: ColumnElement[bool], tenant_id: int, now: int, **values: Any
) -> Update:
    """UPDATE the client's rows of `table` that match `where`: SET `values`, and move their
    `last_changed_at` to `now` (`advanced`, so never backwards)."""
    stamp = advanced(table.c.last_changed_at, now)
    return (
        scoped_update(table, tenant_id=tenant_id)
        .where(*where)
        .values(last_changed_at=stamp, **values)
    )
