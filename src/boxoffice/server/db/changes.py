"""Moving `last_changed_at` forward: never backwards, whatever order transactions commit in."""

from sqlalchemy import ColumnElement, case, literal
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.types import BigInteger


def advanced(column: "ColumnClause[int] | ColumnElement[int]", now: int) -> ColumnElement[int]:
    """The value to store on a change at `now`: max(current value, now).

    Two transactions can read the clock in one order and commit in the other; taking the
    maximum keeps every record's `lastChanged` monotonic (see db/transactions.py for why no
    change can be missed either way).
    """
    stamp = literal(now, BigInteger)
    return case((column > stamp, column), else_=stamp)
