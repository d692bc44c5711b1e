"""SQL for customers and their tags. Every function is scoped by a keyword-only tenant_id."""

from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Connection, RowMapping, insert
from sqlalchemy.exc import IntegrityError

from boxoffice.server.catalog.tables import client_types
from boxoffice.server.customers.tables import customer_tags, customers
from boxoffice.server.db.changes import changed
from boxoffice.server.db.scoping import (
    first_row,
    rows_by,
    scoped_delete,
    scoped_select,
)


def get_customer(conn: Connection, *, tenant_id: int, customer_id: int) -> RowMapping | None:
    return first_row(conn, customers, customers.c.id == customer_id, tenant_id=tenant_id)


def list_customers_by_ids(
    conn: Connection, *, tenant_id: int, customer_ids: Collection[int]
) -> dict[int, RowMapping]:
    return rows_by(conn, customers.c.id, customer_ids, tenant_id=tenant_id)


def list_tags_by_customer(
    conn: Connection, *, tenant_id: int, customer_ids: Collection[int]
) -> dict[int, list[str]]:
    """Tag names per customer id (customers without tags are absent)."""
    if not customer_ids:
        return {}
    stmt = (
        scoped_select(
            customer_tags, customer_tags.c.customer_id, customer_tags.c.name, tenant_id=tenant_id
        )
        .where(customer_tags.c.customer_id.in_(list(customer_ids)))
        .order_by(customer_tags.c.customer_id, customer_tags.c.name)
    )
    tags: dict[int, list[str]] = defaultdict(list)
    for customer_id, name in conn.execute(stmt):
        tags[customer_id].append(name)
    return dict(tags)


def get_tags(conn: Connection, *, tenant_id: int, customer_id: int) -> list[str]:
    return list_tags_by_customer(conn, tenant_id=tenant_id, customer_ids=[customer_id]).get(
        customer_id, []
    )


def lock_customer(conn: Connection, *, tenant_id: int, customer_id: int) -> RowMapping | None:
    """The customer row, locked until commit on PostgreSQL (SQLite's writer lock suffices)."""
    where = customers.c.id == customer_id
    return first_row(conn, customers, where, tenant_id=tenant_id, lock=True)


def get_customer_by_email_key(
    conn: Connection, *, tenant_id: int, email_key: str
) -> RowMapping | None:
    return first_row(conn, customers, customers.c.email_key == email_key, tenant_id=tenant_id)


def _is_email_conflict(exc: IntegrityError) -> bool:
    # Both backends name the column or the constraint uq_customers_tenant_id_email_key.
    return "email_key" in str(exc.orig)


def insert_customer(
    conn: Connection, *, tenant_id: int, values: Mapping[str, Any], now: int
) -> int | None:
    """Insert a customer; None when its email_key is taken (also by a concurrent insert).

    The savepoint keeps the transaction usable after the unique violation on PostgreSQL.
    """
    stmt = insert(customers).values(
        tenant_id=tenant_id, created_at=now, last_changed_at=now, **values
    )
    try:
        with conn.begin_nested():
            key = conn.execute(stmt).inserted_primary_key
    except IntegrityError as exc:
        if _is_email_conflict(exc):
            return None
        raise
    assert key is not None
    return int(key[0])


def update_customer(
    conn: Connection,
    *,
    tenant_id: int,
    customer_id: int,
    values: Mapping[str, Any],
    now: int,
) -> bool:
    """Set `values` and move last_changed_at; False when the new email_key is taken."""
    where = customers.c.id == customer_id
    stmt = changed(customers, where, tenant_id=tenant_id, now=now, **values)
    try:
        with conn.begin_nested():
            conn.execute(stmt)
    except IntegrityError as exc:
        if _is_email_conflict(exc):
            return False
        raise
    return True


def list_client_type_names(conn: Connection, *, tenant_id: int) -> set[str]:
    """The client's tag vocabulary (small: a catalog list)."""
    stmt = scoped_select(client_types, client_types.c.name, tenant_id=tenant_id)
    return set(conn.execute(stmt).scalars())


def insert_tags(
    conn: Connection, *, tenant_id: int, customer_id: int, names: Collection[str]
) -> None:
    if names:
        conn.execute(
            insert(customer_tags),
            [{"tenant_id": tenant_id, "customer_id": customer_id, "name": n} for n in names],
        )


def delete_tags(
    conn: Connection, *, tenant_id: int, customer_id: int, names: Collection[str] | None = None
) -> None:
    """Delete the given tags of a customer, or all of them when `names` is None."""
    stmt = scoped_delete(customer_tags, tenant_id=tenant_id).where(
        customer_tags.c.customer_id == customer_id
    )
    if names is not None:
        if not names:
            return
        stmt = stmt.where(customer_tags.c.name.in_(list(names)))
    conn.execute(stmt)
