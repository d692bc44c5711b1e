"""SQL for carts and their items. Every function takes a keyword-only tenant_id."""

import functools
import typing
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Insert,
    Integer,
    RowMapping,
    Select,
    String,
    Table,
    Update,
    bindparam,
    case,
    insert,
    literal_column,
    select,
    true,
)

from boxoffice.server.carts.tables import cart_items, carts
from boxoffice.server.db.numbered import Given, numbered_rows, numbered_values
from boxoffice.server.db.scoping import (
    PER_TENANT_STATEMENTS,
    first_row,
    per_tenant,
    scoped_delete,
    scoped_select,
    scoped_update,
)
from boxoffice.server.db.transactions import (
    PG_STATEMENT_CLOCK,
    Pipelined,
    run_each,
    run_first,
    run_one,
    run_pipelined,
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


# The statements of a buyer's every step, built once (db/scoping.py, per_tenant).
# The columns a new cart is given (closed_at: none yet), each a parameter of that name.
_INSERT_CART: Insert = (
    insert(carts)
    .values({name: bindparam(name) for name in ("id", "tenant_id", "created_at", "expires_at")})
    .returning(*carts.c)
)
# An item's columns as inserted (NewItem's fields but the place a ticket holds), each a
# parameter of its name: a statement compiled once (run_each).
_ITEM_GIVEN = tuple(f.name for f in fields(NewItem) if f.name != "place_key")
_ITEM_COLUMNS = ("tenant_id", "cart_id", *_ITEM_GIVEN)
_INSERT_ITEMS: Insert = (
    insert(cart_items)
    .values({name: bindparam(name) for name in _ITEM_COLUMNS})
    .returning(*cart_items.c, sort_by_parameter_order=True)
)


@per_tenant
def _cart(tenant_id: int) -> Select[Any]:
    return scoped_select(carts, tenant_id=tenant_id).where(carts.c.id == bindparam("p_cart"))


@per_tenant
def _locked_cart(tenant_id: int) -> Select[Any]:
    return _cart(tenant_id).with_for_update()


@per_tenant
def _cart_update(tenant_id: int) -> Update:
    return scoped_update(carts, tenant_id=tenant_id).where(carts.c.id == bindparam("p_cart"))


@per_tenant
def _expiry_update(tenant_id: int) -> Update:
    stmt = _cart_update(tenant_id).values(expires_at=bindparam("p_expires"))
    return stmt.returning(*carts.c)


@per_tenant
def _closed_update(tenant_id: int) -> Update:
    return _cart_update(tenant_id).values(closed_at=bindparam("p_now"))


@per_tenant
def _live_expiry_update(tenant_id: int) -> Update:
    """The expiry moved on the cart if it is open and has not expired at p_now."""
    live = (carts.c.closed_at.is_(None), carts.c.expires_at > bindparam("p_now"))
    return _expiry_update(tenant_id).where(*live)


@per_tenant
def _open_close(tenant_id: int) -> Update:
    """The open cart closed at p_now, unless it has expired by then (then it stays open)."""
    now = bindparam("p_now", type_=carts.c.closed_at.type)
    closed_at = case((carts.c.expires_at > now, now), else_=None)
    stmt = _cart_update(tenant_id).where(carts.c.closed_at.is_(None)).values(closed_at=closed_at)
    return stmt.returning(*carts.c)


@per_tenant
def _items(tenant_id: int) -> Select[Any]:
    stmt = scoped_select(cart_items, tenant_id=tenant_id)
    return stmt.where(cart_items.c.cart_id == bindparam("p_cart")).order_by(cart_items.c.id)


def insert_cart(
    conn: Connection, *, tenant_id: int, cart_id: str, now: int, expires_at: int
) -> RowMapping:
    """Insert a cart; the row as stored (RETURNING: no second statement to read it back)."""
    values = {"id": cart_id, "tenant_id": tenant_id, "created_at": now, "expires_at": expires_at}
    (row,) = run_one(conn, _INSERT_CART, values)
    return row


# PostgreSQL: a cart stamped with the database's clock by the INSERT itself
# (transactions.autocommit_write).
_PG_CLOCK = literal_column(PG_STATEMENT_CLOCK, BigInteger)
_INSERT_CART_AT_CLOCK: Insert = (
    insert(carts)
    .values(
        id=bindparam("p_cart"),
        tenant_id=bindparam("p_tenant"),
        created_at=_PG_CLOCK,
        expires_at=_PG_CLOCK + bindparam("p_hold", type_=BigInteger),
    )
    .returning(*carts.c)
)


def insert_cart_at_clock(
    conn: Connection, *, tenant_id: int, cart_id: str, hold_micros: int
) -> RowMapping:
    """PostgreSQL: insert a cart created at the database's clock, expiring `hold_micros`
    later, in one statement (autocommit_write); the row as stored."""
    values = {"p_cart": cart_id, "p_tenant": tenant_id, "p_hold": hold_micros}
    (row,) = run_one(conn, _INSERT_CART_AT_CLOCK, values)
    return row


def get_cart(
    conn: Connection, *, tenant_id: int, cart_id: str, lock: bool = False
) -> RowMapping | None:
    """The cart; `lock` takes its row lock so that changes to one cart are serialised
    (FOR UPDATE on PostgreSQL; SQLite's writer lock serialises already)."""
    stmt = (_locked_cart if lock else _cart)(tenant_id)
    return run_first(conn, stmt, {"p_cart": cart_id})


def update_cart_expiry(
    conn: Connection, *, tenant_id: int, cart_id: str, expires_at: int
) -> RowMapping:
    """Move the cart's expiry; the cart as it now is (RETURNING: no read after it)."""
    values = {"p_cart": cart_id, "p_expires": expires_at}
    (row,) = run_one(conn, _expiry_update(tenant_id), values)
    return row


def update_cart_closed(conn: Connection, *, tenant_id: int, cart_id: str, now: int) -> None:
    run_one(conn, _closed_update(tenant_id), {"p_cart": cart_id, "p_now": now})


def extend_live_cart(
    conn: Connection, *, tenant_id: int, cart_id: str, now: int, expires_at: int
) -> RowMapping | None:
    """Move the expiry of the cart if it is open and unexpired at `now`, in the statement
    that takes its row lock; the cart as it now is, or None (missing, closed or expired:
    nothing changed)."""
    sent = extend_live_cart_sent(
        tenant_id=tenant_id, cart_id=cart_id, now=now, expires_at=expires_at
    )
    return run_first(conn, *sent)


def close_open_cart(
    conn: Connection, *, tenant_id: int, cart_id: str, now: int
) -> RowMapping | None:
    """Close the open cart at `now`, in the statement that takes its row lock, unless it
    has expired by then; the cart as it now is (`closed_at` None: it had expired and stays
    open), or None (missing or closed already)."""
    sent = close_open_cart_sent(tenant_id=tenant_id, cart_id=cart_id, now=now)
    return run_first(conn, *sent)


def list_items(conn: Connection, *, tenant_id: int, cart_id: str) -> list[RowMapping]:
    return run_one(conn, *list_items_sent(tenant_id=tenant_id, cart_id=cart_id))


def extend_live_cart_sent(*, tenant_id: int, cart_id: str, now: int, expires_at: int) -> Pipelined:
    """`extend_live_cart` as a statement to send in a pipeline (run_pipelined); its rows
    are what extend_live_cart reads the first of."""
    values = {"p_cart": cart_id, "p_now": now, "p_expires": expires_at}
    return _live_expiry_update(tenant_id), values


@functools.lru_cache(maxsize=PER_TENANT_STATEMENTS)
def _moved_with(tenant_id: int, read: Select[Any]) -> Select[Any]:
    """PostgreSQL: `_live_expiry_update` and `read` (another feature's SELECT) in one
    statement: the cart as moved, with each row of `read` (its columns prefixed `read_`;
    one row of NULLs when it finds none); no row when the cart was not moved. `read` runs
    on the statement's snapshot, taken before the cart's row lock is waited for: for rows
    that the cart's lock does not guard (a hold's prices), not for the cart's items."""
    moved = _live_expiry_update(tenant_id).cte("moved")
    rows = read.subquery("read")
    read_columns = [column.label(f"read_{column.name}") for column in rows.c]
    return select(*moved.c, *read_columns).select_from(moved.outerjoin(rows, true()))


def extend_live_cart_with_sent(
    *, tenant_id: int, cart_id: str, now: int, expires_at: int, read: Pipelined
) -> Pipelined:
    """`extend_live_cart_sent` and the statement `read` (a kept SELECT and its values,
    named apart from the move's `p_cart`, `p_now` and `p_expires`) as one statement to send
    in a pipeline; its rows are for `moved_and_read`."""
    select_read, read_values = read
    assert isinstance(select_read, Select)
    _update, values = extend_live_cart_sent(
        tenant_id=tenant_id, cart_id=cart_id, now=now, expires_at=expires_at
    )
    return _moved_with(tenant_id, select_read), {**read_values, **values}


def moved_and_read(
    rows: Sequence[RowMapping],
) -> tuple[RowMapping | None, Sequence[RowMapping] | None]:
    """The cart as `extend_live_cart_with_sent`'s statement moved it (None: it was not,
    and the read's rows are unknown: None), and the read's rows (by their own names)."""
    if not rows:
        return None, None
    carts_rows, found = _own_and_read(rows, carts)
    return carts_rows[0], found


def _own_and_read(
    rows: Sequence[RowMapping], table: Table
) -> tuple[list[RowMapping], list[RowMapping]]:
    """Each row of a statement that joined another feature's read to `table`'s rows
    (`_moved_with`, `_items_with`): `table`'s columns, and the read's by their own names
    where it had a row (its `read_` columns not all NULL)."""
    names = (
        [(key[len("read_") :], key) for key in rows[0] if key.startswith("read_")] if rows else []
    )
    own: list[dict[str, Any]] = []
    found: list[dict[str, Any]] = []
    for row in rows:
        own.append({column.name: row[column.name] for column in table.c})
        if any(row[key] is not None for _name, key in names):
            found.append({name: row[key] for name, key in names})
    # Mappings of names, as the rows of the table's and the read's own statements.
    return typing.cast(list[RowMapping], own), typing.cast(list[RowMapping], found)


def close_open_cart_sent(*, tenant_id: int, cart_id: str, now: int) -> Pipelined:
    """`close_open_cart` as a statement to send in a pipeline (db/transactions.py,
    run_pipelined); its rows are what close_open_cart reads the first of."""
    return _open_close(tenant_id), {"p_cart": cart_id, "p_now": now}


def list_items_sent(*, tenant_id: int, cart_id: str) -> Pipelined:
    """`list_items` as a statement to send in a pipeline; its rows are the items."""
    return _items(tenant_id), {"p_cart": cart_id}


@per_tenant
def _item_ids(tenant_id: int) -> Select[Any]:
    stmt = scoped_select(cart_items, cart_items.c.id, tenant_id=tenant_id)
    return stmt.where(cart_items.c.cart_id == bindparam("p_cart"))


@functools.lru_cache(maxsize=PER_TENANT_STATEMENTS)
def _items_with(tenant_id: int, read: Select[Any]) -> Select[Any]:
    """PostgreSQL: the cart's items (`_items`), each with its row of `read` (another
    feature's SELECT whose first column is a cart item's id, at most one row an item: a
    checkout's lock of the items' holds), in one statement; `read`'s columns prefixed
    `read_`, NULL for an item it has no row of. `read` is a WITH clause: a SELECT ... FOR
    UPDATE may be one, and runs once."""
    found = read.cte("read")
    items = _items(tenant_id).subquery("items")
    read_columns = [column.label(f"read_{column.name}") for column in found.c]
    joined = items.outerjoin(found, found.c[0] == items.c.id)
    return select(*items.c, *read_columns).select_from(joined).order_by(items.c.id)


def list_items_with_sent(*, tenant_id: int, cart_id: str, read: Pipelined) -> Pipelined:
    """`list_items_sent` with each item's row of `read` (a kept SELECT and its values, named
    apart from `p_cart`), one statement to send in a pipeline; its rows are for
    `items_and_read`."""
    select_read, read_values = read
    assert isinstance(select_read, Select)
    return _items_with(tenant_id, select_read), {**read_values, "p_cart": cart_id}


def items_and_read(rows: Sequence[RowMapping]) -> tuple[list[RowMapping], list[RowMapping]]:
    """The items and the read's rows (by their own names) of `list_items_with_sent`'s."""
    return _own_and_read(rows, cart_items)


def item_ids_sent(*, tenant_id: int, cart_id: str) -> Pipelined:
    """The ids of the cart's items as a SELECT to send in a pipeline, or to nest in one
    (places.live_holds_sent)."""
    return _item_ids(tenant_id), {"p_cart": cart_id}


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
    # Each field read by name: dataclasses.asdict deep-copies every value (9 us an item).
    rows = [
        {"tenant_id": tenant_id, "cart_id": cart_id, **{n: getattr(item, n) for n in _ITEM_GIVEN}}
        for item in items
    ]
    return run_each(conn, _INSERT_ITEMS, rows)


# A ticket item's columns as a hold inserts them.
_TICKET_COLUMNS = (
    "item_type",
    "event_id",
    "price_id",
    "price_name",
    "rank_id",
    "hall_seat_id",
    "row_nr",
    "seat_nr",
    "description",
    "amount_cents",
)
# The INSERT of holds from a SELECT of their columns (places.service.holds_insert_from).
HoldsInsert = Callable[[Select[Any]], Insert]


@functools.cache
def _holding_insert(count: int, holds_insert_from: HoldsInsert) -> Select[Any]:
    """PostgreSQL: `count` ticket items and their holds in one statement (one round trip
    while the events are locked, where two would hold up their other buyers longer).

    The items' ids are drawn from their sequence first (`numbered`, db.numbered: a
    materialised CTE, drawn once), so that each hold names its item; the holds are inserted by
    `holds_insert_from`'s statement (places: the claims table is theirs), which skips the
    places claimed already. Returns each item as stored and whether its hold was made, in
    the order given."""
    typed = [cart_items.c[name] for name in _TICKET_COLUMNS]
    given: list[Given] = [("place_key", String()), *((c.name, c.type) for c in typed)]
    numbered = numbered_rows("cart_items_id_seq", count, given)
    tenant_id, cart_id = bindparam("tenant_id", type_=Integer), bindparam("cart_id", type_=String)
    item_rows = select(numbered.c.id, tenant_id, cart_id, *(numbered.c[n] for n in _TICKET_COLUMNS))
    items = (
        insert(cart_items)
        .from_select(["id", "tenant_id", "cart_id", *_TICKET_COLUMNS], item_rows)
        .returning(*cart_items.c)
        .cte("items")
    )
    hold_rows = select(
        tenant_id,
        numbered.c.event_id,
        numbered.c.place_key,
        numbered.c.rank_id,
        numbered.c.id,
        bindparam("expires_at"),
    )
    holds = holds_insert_from(hold_rows).cte("holds")
    joined = numbered.join(items, items.c.id == numbered.c.id).outerjoin(
        holds, holds.c.cart_item_id == numbered.c.id
    )
    held = holds.c.cart_item_id.is_not(None).label("held")
    return select(*items.c, held).select_from(joined).order_by(numbered.c.n)


def insert_holding_items(
    conn: Connection,
    *,
    tenant_id: int,
    cart_id: str,
    items: Sequence[NewItem],
    expires_at: int,
    holds_insert_from: HoldsInsert,
    commit: bool = False,
) -> tuple[list[RowMapping], list[int]]:
    """PostgreSQL: insert ticket items with their holds until `expires_at` (inserted by
    `holds_insert_from`'s statement: places.service's), in one statement; the items as
    stored (in the items' order; with one column more, `held`) and the ids of those whose
    hold was made (fewer than the items when a place was claimed already: the caller
    deletes what was made). `commit`: the statement is the transaction's last and is sent
    with its COMMIT (run_pipelined); `holds_insert_from` must then fail on a place claimed
    already (places.holds_insert_or_fail_from), so that nothing half-made is committed."""
    if not items:
        return [], []
    params: dict[str, Any] = {"tenant_id": tenant_id, "cart_id": cart_id, "expires_at": expires_at}
    given = [
        {"place_key": item.place_key, **{name: getattr(item, name) for name in _TICKET_COLUMNS}}
        for item in items
    ]
    params.update(numbered_values(given))
    statement = _holding_insert(len(items), holds_insert_from)
    if commit:
        (rows,) = run_pipelined(conn, [(statement, params)], commit=True)
    else:
        rows = list(conn.execute(statement, params).mappings())
    return rows, [int(row["id"]) for row in rows if row["held"]]


def delete_items(conn: Connection, *, tenant_id: int, item_ids: Collection[int]) -> None:
    if item_ids:
        conn.execute(
            scoped_delete(cart_items, tenant_id=tenant_id).where(
                cart_items.c.id.in_(list(item_ids))
            )
        )
