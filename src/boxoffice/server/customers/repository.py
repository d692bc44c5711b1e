"""SQL for customers and their tags. Every function is scoped by a keyword-only tenant_id."""

from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import Connection, RowMapping, select

from boxoffice.server.customers.tables import customer_tags, customers


def get_customer(conn: Connection, *, tenant_id: int, customer_id: int) -> RowMapping | None:
    stmt = select(customers).where(
        customers.c.tenant_id == tenant_id, customers.c.id == customer_id
    )
    return conn.execute(stmt).mappings().first()


def list_customers_by_ids(
    conn: Connection, *, tenant_id: int, customer_ids: Collection[int]
) -> dict[int, RowMapping]:
    if not customer_ids:
        return {}
    stmt = select(customers).where(
        customers.c.tenant_id == tenant_id, customers.c.id.in_(list(customer_ids))
    )
    return {row["id"]: row for row in conn.execute(stmt).mappings()}


def list_tags_by_customer(
    conn: Connection, *, tenant_id: int, customer_ids: Collection[int]
) -> dict[int, list[str]]:
    """Tag names per customer id (customers without tags are absent)."""
    if not customer_ids:
        return {}
    stmt = (
        select(customer_tags.c.customer_id, customer_tags.c.name)
        .where(
            customer_tags.c.tenant_id == tenant_id,
            customer_tags.c.customer_id.in_(list(customer_ids)),
        )
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
