"""Tenant scoping that fails closed: every query on a tenant-owned table is built here.

A table is tenant-owned when it has a `tenant_id` column. Its selects, updates and deletes
start from `scoped_select`, `scoped_update` or `scoped_delete`, which take the tenant
keyword-only and put `tenant_id = :tenant` into the WHERE clause before anything else is
added. A second tenant-owned table in one statement is tied to the first by
`same_tenant(...)` (a join or a correlated subquery) or scoped itself by `tenant_filter`.

`unscoped_tables` is the check: it names the tenant-owned tables a statement reads or
writes without such a filter. The test session runs it on every statement executed (see
tests/conftest.py), so a query that forgets its tenant fails the suite instead of leaking
another client's rows. The few statements that are cross-tenant by nature (finding the
client of an API key) say so with `cross_tenant(stmt, why)`.
"""

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import (
    BinaryExpression,
    BindParameter,
    Column,
    ColumnElement,
    Connection,
    Delete,
    Executable,
    FromClause,
    Join,
    RowMapping,
    Select,
    Table,
    Update,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BooleanClauseList, ClauseElement, Grouping

from boxoffice.server.db.transactions import run_one

TENANT_COLUMN = "tenant_id"
# The execution option that marks a statement as deliberately cross-tenant.
CROSS_TENANT = "cross_tenant"

_Statement = TypeVar("_Statement", bound=Executable)


def is_tenant_owned(table: FromClause) -> bool:
    return isinstance(table, Table) and TENANT_COLUMN in table.c


def _tenant_column(table: Table) -> "Column[int]":
    if not is_tenant_owned(table):
        raise TypeError(f"{table.name} has no {TENANT_COLUMN} column")
    column: Column[int] = table.c[TENANT_COLUMN]
    return column


def tenant_filter(table: Table, *, tenant_id: int, use_index: bool = True) -> ColumnElement[bool]:
    """`table.tenant_id = :tenant_id`.

    `use_index=False` writes `tenant_id + 0 = :tenant_id`: the same rows, but not a term the
    planner can use an index on (for lookups by primary key that SQLite, lacking
    statistics, would otherwise turn into a scan of the client's rows by the tenant index).
    """
    if not isinstance(tenant_id, int) or isinstance(tenant_id, bool):
        raise TypeError(f"tenant_id must be an int, not {tenant_id!r}")
    column = _tenant_column(table)
    if use_index:
        return column == tenant_id
    return column + 0 == tenant_id


def same_tenant(table: Table, other: Table) -> ColumnElement[bool]:
    """`table.tenant_id = other.tenant_id`: `table` is scoped through `other` (a join or a
    correlated subquery), which must be scoped itself."""
    return _tenant_column(table) == _tenant_column(other)


def scoped_select(
    table: Table, *columns: ColumnElement[Any], tenant_id: int, use_index: bool = True
) -> Select[Any]:
    """SELECT `columns` (all of `table` when none) FROM `table` WHERE tenant_id = :tenant_id."""
    stmt: Select[Any] = select(*columns) if columns else select(table)
    return stmt.where(tenant_filter(table, tenant_id=tenant_id, use_index=use_index))


def scoped_update(table: Table, *, tenant_id: int) -> Update:
    """UPDATE `table` ... WHERE tenant_id = :tenant_id."""
    return update(table).where(tenant_filter(table, tenant_id=tenant_id))


def scoped_delete(table: Table, *, tenant_id: int) -> Delete:
    """DELETE FROM `table` WHERE tenant_id = :tenant_id."""
    return delete(table).where(tenant_filter(table, tenant_id=tenant_id))


def cross_tenant(stmt: _Statement, why: str) -> _Statement:
    """Mark a statement as deliberately not scoped to one client (say why)."""
    marked: _Statement = stmt.execution_options(**{CROSS_TENANT: why})
    return marked


# Statements kept per client by `per_tenant`: more than the clients one server serves.
PER_TENANT_STATEMENTS = 256


def per_tenant(build: Callable[[int], _Statement]) -> Callable[[int], _Statement]:
    """`build(tenant_id)`, made once per client and kept (the hot path's statements).

    The statement it builds is scoped as any other (its tenant filter is the client's bound
    value, which the check below sees); every other value is a named bind parameter that
    the caller passes at execution. Building a statement and computing its cache key cost
    SQLAlchemy more CPU than running it: about 60 of 75 us for a select of one row by key on
    SQLite. A kept statement does neither again (its cache key is memoized on it).
    """
    return lru_cache(maxsize=PER_TENANT_STATEMENTS)(build)


# The reads every repository makes: one row, the rows in an order, the rows of some keys.


def first_row(
    conn: Connection, table: Table, *where: ColumnElement[bool], tenant_id: int, lock: bool = False
) -> RowMapping | None:
    """The client's first row of `table` that matches `where`, or None; `lock` takes its
    row lock (FOR UPDATE on PostgreSQL; SQLite's writer lock serialises already)."""
    stmt = scoped_select(table, tenant_id=tenant_id).where(*where)
    if lock:
        stmt = stmt.with_for_update()
    return conn.execute(stmt).mappings().first()


def all_rows(
    conn: Connection,
    table: Table,
    *where: ColumnElement[bool],
    tenant_id: int,
    order_by: Iterable[ColumnElement[Any]],
) -> list[RowMapping]:
    """The client's rows of `table` that match `where`, in `order_by` order."""
    stmt = scoped_select(table, tenant_id=tenant_id).where(*where).order_by(*order_by)
    return list(conn.execute(stmt).mappings())


def rows_by(
    conn: Connection, key: "Column[Any]", keys: Collection[Any], *, tenant_id: int
) -> dict[Any, RowMapping]:
    """{key: row} of the client's rows of `key`'s table whose `key` is one of `keys`."""
    if not keys:
        return {}
    stmt = _rows_by(_table_of(key), key.name, tenant_id)
    # On the driver (run_one): its SQL kept per number of keys.
    return {row[key.name]: row for row in run_one(conn, stmt, {"p_keys": list(keys)})}


@lru_cache(maxsize=PER_TENANT_STATEMENTS * 8)
def _rows_by(table: Table, key_name: str, tenant_id: int) -> Select[Any]:
    """`rows_by`'s statement, kept per (table, key, client) as `per_tenant` keeps its own
    (its keys an expanding bind parameter): the hot path looks up prices by id."""
    key = table.c[key_name]
    return scoped_select(table, tenant_id=tenant_id).where(
        key.in_(bindparam("p_keys", expanding=True))
    )


def rows_grouped_by(
    conn: Connection,
    key: "Column[Any]",
    keys: Collection[Any],
    *,
    tenant_id: int,
    order_by: Iterable[ColumnElement[Any]],
) -> dict[Any, list[RowMapping]]:
    """{key: [row, ...]} of the client's rows of `key`'s table whose `key` is one of `keys`,
    each list in `order_by` order; keys without rows are absent."""
    if not keys:
        return {}
    table = _table_of(key)
    stmt = scoped_select(table, tenant_id=tenant_id).where(key.in_(list(keys)))
    grouped: dict[Any, list[RowMapping]] = defaultdict(list)
    for row in conn.execute(stmt.order_by(key, *order_by)).mappings():
        grouped[row[key.name]].append(row)
    return dict(grouped)


def insert_row(conn: Connection, table: Table, *, tenant_id: int, **values: Any) -> int:
    """INSERT one row of the client into `table`; its new `id`."""
    stmt = insert(table).values(tenant_id=tenant_id, **values).returning(table.c.id)
    return int(conn.execute(stmt).scalar_one())


def _table_of(column: "Column[Any]") -> Table:
    table = column.table
    if not isinstance(table, Table):
        raise TypeError(f"{column} is not a column of a table")
    return table


# The check.


def unscoped_tables(statement: object) -> set[str]:
    """The tenant-owned tables that a select, update or delete (at any nesting depth) reads
    or writes without a tenant filter; empty for anything else and for `cross_tenant`
    statements.

    A table counts as scoped in a statement when a top-level AND term of that statement's
    WHERE (or of a join's ON) is `table.tenant_id = <bound value>` (optionally `+ 0`), or
    `table.tenant_id = other.tenant_id` for an `other` scoped there or in an enclosing
    statement (which is how a correlated subquery inherits its scope).
    """
    if not isinstance(statement, ClauseElement):
        return set()
    if isinstance(statement, Executable) and statement.get_execution_options().get(CROSS_TENANT):
        return set()
    found: set[str] = set()
    _walk(statement, frozenset(), found)
    return found


def _walk(element: ClauseElement, outer: frozenset[Table], found: set[str]) -> None:
    if isinstance(element, (Select, Update, Delete)):
        tables, ons = _from_tables(element)
        terms = [*_conjuncts(element.whereclause), *(t for on in ons for t in _conjuncts(on))]
        scoped = set(outer)
        links: list[tuple[Table, Table]] = []
        for term in terms:
            bound = _bound_tenant(term)
            if bound is not None:
                scoped.add(bound)
            link = _tenant_link(term)
            if link is not None:
                links.append(link)
        changed = True
        while changed:
            changed = False
            for a, b in links:
                for this, that in ((a, b), (b, a)):
                    if that in scoped and this not in scoped:
                        scoped.add(this)
                        changed = True
        found.update(t.name for t in tables if t not in scoped)
        outer = frozenset(scoped)
    for child in element.get_children():
        if isinstance(child, Table):
            continue
        _walk(child, outer, found)


def _from_tables(element: Select[Any] | Update | Delete) -> tuple[set[Table], list[Any]]:
    """The tenant-owned tables in the statement's own FROM list, and its joins' ON clauses."""
    tables: set[Table] = set()
    ons: list[Any] = []
    roots: Iterable[FromClause] = (
        element.get_final_froms() if isinstance(element, Select) else [element.table]
    )
    for root in roots:
        for table in _join_leaves(root, ons):
            if is_tenant_owned(table):
                tables.add(table)  # type: ignore[arg-type]
    return tables, ons


def _join_leaves(clause: FromClause, ons: list[Any]) -> Iterator[FromClause]:
    if isinstance(clause, Join):
        ons.append(clause.onclause)
        yield from _join_leaves(clause.left, ons)
        yield from _join_leaves(clause.right, ons)
    else:
        yield clause


def _conjuncts(clause: Any) -> Iterator[Any]:
    """The top-level AND terms of a WHERE or ON clause."""
    if clause is None:
        return
    if isinstance(clause, Grouping):
        yield from _conjuncts(clause.element)
    elif isinstance(clause, BooleanClauseList) and clause.operator is operators.and_:
        for term in clause.clauses:
            yield from _conjuncts(term)
    else:
        yield clause


def _tenant_column_of(expr: Any) -> Table | None:
    """The table whose tenant_id `expr` is (also as `tenant_id + 0`), else None."""
    if isinstance(expr, Grouping):
        expr = expr.element
    if (
        isinstance(expr, BinaryExpression)
        and expr.operator is operators.add
        and isinstance(expr.right, BindParameter)
        and expr.right.value == 0
    ):
        expr = expr.left
    if isinstance(expr, Column) and expr.name == TENANT_COLUMN and isinstance(expr.table, Table):
        return expr.table
    return None


def _bound_tenant(term: Any) -> Table | None:
    """The table a `tenant_id = <bound int>` term scopes."""
    if not isinstance(term, BinaryExpression) or term.operator is not operators.eq:
        return None
    for column, value in ((term.left, term.right), (term.right, term.left)):
        table = _tenant_column_of(column)
        if table is not None and isinstance(value, BindParameter):
            bound = value.value if value.callable is None else None
            if isinstance(bound, int) and not isinstance(bound, bool):
                return table
    return None


def _tenant_link(term: Any) -> tuple[Table, Table] | None:
    """(a, b) for a `a.tenant_id = b.tenant_id` term."""
    if not isinstance(term, BinaryExpression) or term.operator is not operators.eq:
        return None
    left, right = _tenant_column_of(term.left), _tenant_column_of(term.right)
    if left is None or right is None:
        return None
    return left, right
