"""SQL of the public API: read-only views of the catalog.

Every catalog function takes a keyword-only tenant_id and filters on it.
"""

from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import Connection, RowMapping

from boxoffice.server.catalog.tables import events, halls, payment_methods, prices, productions
from boxoffice.server.db.scoping import all_rows, first_row, scoped_select


def list_productions(
    conn: Connection, *, tenant_id: int, production_ids: Collection[int] | None = None
) -> dict[int, RowMapping]:
    """Productions by id, all of the client's or the given ones."""
    stmt = scoped_select(productions, tenant_id=tenant_id)
    if production_ids is not None:
        stmt = stmt.where(productions.c.production_id.in_(list(production_ids)))
    stmt = stmt.order_by(productions.c.production_id)
    return {row["production_id"]: row for row in conn.execute(stmt).mappings()}


def get_production(conn: Connection, *, tenant_id: int, production_id: int) -> RowMapping | None:
    where = productions.c.production_id == production_id
    return first_row(conn, productions, where, tenant_id=tenant_id)


def list_events(
    conn: Connection,
    *,
    tenant_id: int,
    production_id: int | None = None,
    start_after: int | None = None,
) -> list[RowMapping]:
    """Events in start order: all of the client's, one production's, or those starting later."""
    stmt = scoped_select(events, tenant_id=tenant_id)
    if production_id is not None:
        stmt = stmt.where(events.c.production_id == production_id)
    if start_after is not None:
        stmt = stmt.where(events.c.start_at > start_after)
    stmt = stmt.order_by(events.c.start_at, events.c.event_id)
    return list(conn.execute(stmt).mappings())


def get_event(conn: Connection, *, tenant_id: int, event_id: int) -> RowMapping | None:
    return first_row(conn, events, events.c.event_id == event_id, tenant_id=tenant_id)


def list_event_ids(conn: Connection, *, tenant_id: int, event_ids: Collection[int]) -> set[int]:
    """Which of `event_ids` the client has."""
    if not event_ids:
        return set()
    stmt = scoped_select(events, events.c.event_id, tenant_id=tenant_id).where(
        events.c.event_id.in_(list(event_ids))
    )
    return set(conn.execute(stmt).scalars())


def list_prices(conn: Connection, *, tenant_id: int, event_id: int) -> list[RowMapping]:
    """An event's prices: by rank, the dearest first, then by price id."""
    where = prices.c.event_id == event_id
    order = (prices.c.rank_id, prices.c.amount_cents.desc(), prices.c.price_id)
    return all_rows(conn, prices, where, tenant_id=tenant_id, order_by=order)


def list_halls(
    conn: Connection, *, tenant_id: int, hall_id: int | None = None
) -> dict[int, RowMapping]:
    stmt = scoped_select(halls, tenant_id=tenant_id)
    if hall_id is not None:
        stmt = stmt.where(halls.c.hall_id == hall_id)
    stmt = stmt.order_by(halls.c.hall_id)
    return {row["hall_id"]: row for row in conn.execute(stmt).mappings()}


def list_online_payment_methods(conn: Connection, *, tenant_id: int) -> list[RowMapping]:
    where = payment_methods.c.online.is_(True)
    order = [payment_methods.c.payment_method_id]
    return all_rows(conn, payment_methods, where, tenant_id=tenant_id, order_by=order)


def list_event_type_columns(conn: Connection, *, tenant_id: int) -> list[tuple[str | None, ...]]:
    """(production event types, event event types, event type) of every event, and
    (production event types, None, None) of every production: what event-type names exist."""
    rows: list[tuple[str | None, ...]] = [
        (row[0], None, None)
        for row in conn.execute(
            scoped_select(productions, productions.c.event_types, tenant_id=tenant_id)
        )
    ]
    stmt = scoped_select(events, events.c.event_types, events.c.event_type, tenant_id=tenant_id)
    rows.extend((None, event_types, event_type) for event_types, event_type in conn.execute(stmt))
    return rows


def group_by_production(rows: list[RowMapping]) -> dict[int, list[RowMapping]]:
    grouped: dict[int, list[RowMapping]] = defaultdict(list)
    for row in rows:
        grouped[row["production_id"]].append(row)
    return dict(grouped)
