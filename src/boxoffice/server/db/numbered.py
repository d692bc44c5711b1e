"""PostgreSQL: rows given to one statement as bound values, each with an id drawn first.

A statement that inserts rows and, in the same statement, rows that refer to them (a hold's
cart items and their claims, a checkout's order seats and their sales) needs each new id
before either insert: `numbered_rows` draws them from the table's sequence in a
materialised WITH clause (drawn once, whichever parts of the statement read it)."""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    CTE,
    Integer,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.types import TypeEngine

# A given column: its name and its type (a column of NULLs alone would be text).
Given = tuple[str, "TypeEngine[Any]"]


def numbered_rows(sequence: str, count: int, columns: Sequence[Given]) -> CTE:
    """`numbered`: `count` rows of `columns`, their values bound as `<name>_<i>`, each with
    `id`, drawn from `sequence` (a name in the code, not a value), and `n`, its place."""
    # A SELECT a row (a VALUES list would not be cached compiled), each value cast to its
    # column's type.
    given = union_all(
        *(
            select(
                literal(i, Integer).label("n"),
                *(cast(bindparam(f"{name}_{i}"), kind).label(name) for name, kind in columns),
            )
            for i in range(count)
        )
    ).subquery("given")
    next_id = func.nextval(literal_column(f"'{sequence}'")).label("id")
    return select(next_id, *given.c).cte("numbered").prefix_with("MATERIALIZED")


def numbered_values(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The bound values of `numbered_rows` for these rows (each a value of every column)."""
    return {f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}
