"""SQL for carts and their items. Every function takes a keyword-only tenant_id."""

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import Connection, RowMapping, insert

from boxoffice.server.carts.tables import cart_items, carts
from boxoffice.server.db.scoping import (
    all_rows,
    first_row,
    scoped_delete,
    scoped_update,
)


@dataclass(frozen=True, slots=True)
class NewItem:
    """A cart item to insert; a ticket also carries the place it holds."""

    item_type: str
    event_id: int | None
    price_id: str
    price_name: str
    rank_id: int
    hall_seat_id: int | None
    row_nr: int | None
    seat_nr: int | None
    description: str
    amount_cents: int
    place_key: str | None


def insert_cart(
    conn: Connection, *, tenant_id: int, cart_id: str, now: int, expires_at: int
) -> RowMapping:
    """Insert a cart; the row as stored (RETURNING: no second statement to read it back)."""
    stmt = insert(carts).values(
        id=cart_id, tenant_id=tenant_id, created_at=now, expires_at=expires_at
    )
    return conn.execute(stmt.returning(*carts.c)).mappings().one()


def get_cart(
    conn: Connection, *, tenant_id: int, cart_id: str, lock: bool = False
) -> RowMapping | None:
    """The cart; `lock` takes its row lock so that changes to one cart are serialised."""
    return first_row(conn, carts, carts.c.id == cart_id, tenant_id=tenant_id, lock=lock)


def update_cart_expiry(
    conn: Connection, *, tenant_id: int, cart_id: str, expires_at: int
) -> RowMapping:
    """Move the cart's expiry; the cart as it now is (RETURNING: no read after it)."""
    stmt = (
        scoped_update(carts, tenant_id=tenant_id)
        .where(carts.c.id == cart_id)
        .values(expires_at=expires_at)
    )
    return conn.execute(stmt.returning(*carts.c)).mappings().one()


def update_cart_closed(conn: Connection, *, tenant_id: int, cart_id: str, now: int) -> None:
    conn.execute(
        scoped_update(carts, tenant_id=tenant_id).where(carts.c.id == cart_id).values(closed_at=now)
    )


def list_items(conn: Connection, *, tenant_id: int, cart_id: str) -> list[RowMapping]:
    where = cart_items.c.cart_id == cart_id
    return all_rows(conn, cart_items, where, tenant_id=tenant_id, order_by=[cart_items.c.id])


def get_item(conn: Connection, *, tenant_id: int, cart_id: str, item_id: int) -> RowMapping | None:
    where = (cart_items.c.cart_id == cart_id, cart_items.c.id == item_id)
    return first_row(conn, cart_items, *where, tenant_id=tenant_id)


def insert_items(
    conn: Connection, *, tenant_id: int, cart_id: str, items: Sequence[NewItem]
) -> list[RowMapping]:
    """Insert items in one INSERT (SQLite: one a row, in one call); the rows as stored, in
    the items' order (a ticket's hold is the caller's)."""
    if not items:
        return []
    rows = []
    for item in items:
        values = asdict(item)
        del values["place_key"]
        rows.append({"tenant_id": tenant_id, "cart_id": cart_id, **values})
    stmt = insert(cart_items).returning(*cart_items.c, sort_by_parameter_order=True)
    return list(conn.execute(stmt, rows).mappings())


def delete_items(conn: Connection, *, tenant_id: int, item_ids: Collection[int]) -> None:
    if item_ids:
        conn.execute(
            scoped_delete(cart_items, tenant_id=tenant_id).where(
                cart_items.c.id.in_(list(item_ids))
            )
        )
