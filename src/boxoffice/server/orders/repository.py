"""SQL for orders and their seats. Every function is scoped by a keyword-only tenant_id."""

from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import Connection, RowMapping, select

from boxoffice.server.orders.tables import order_seats, orders


def get_order(conn: Connection, *, tenant_id: int, order_id: int) -> RowMapping | None:
    stmt = select(orders).where(orders.c.tenant_id == tenant_id, orders.c.id == order_id)
    return conn.execute(stmt).mappings().first()


def list_seats_by_order(
    conn: Connection, *, tenant_id: int, order_ids: Collection[int]
) -> dict[int, list[RowMapping]]:
    """All seats (current and removed) per order id, in seat id order."""
    if not order_ids:
        return {}
    stmt = (
        select(order_seats)
        .where(order_seats.c.tenant_id == tenant_id, order_seats.c.order_id.in_(list(order_ids)))
        .order_by(order_seats.c.order_id, order_seats.c.id)
    )
    seats: dict[int, list[RowMapping]] = defaultdict(list)
    for row in conn.execute(stmt).mappings():
        seats[row["order_id"]].append(row)
    return dict(seats)
