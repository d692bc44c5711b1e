"""SQL for catalog reads. Every function takes a keyword-only tenant_id."""

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    Select,
    any_,
    bindparam,
    func,
    select,
    update,
)

from boxoffice.server.catalog.tables import (
    event_blocks,
    event_capacities,
    events,
    hall_seats,
    hall_sections,
    halls,
    payment_methods,
    prices,
    productions,
    ranks,
)
from boxoffice.server.db.scoping import (
    all_rows,
    first_row,
    per_tenant,
    rows_by,
    rows_grouped_by,
    same_tenant,
    scoped_select,
)
from boxoffice.server.db.transactions import Pipelined, run_first, run_one, run_pipelined
from boxoffice.server.tenancy.tables import clients

# Events in start order (ties by id).
_START_ORDER = (events.c.start_at, events.c.event_id)


def list_events(
    conn: Connection, *, tenant_id: int, start_min: int | None, start_max: int | None
) -> list[RowMapping]:
    """Events starting within [start_min, start_max] (either bound optional), by start."""
    stmt = scoped_select(events, tenant_id=tenant_id)
    if start_min is not None:
        stmt = stmt.where(events.c.start_at >= start_min)
    if start_max is not None:
        stmt = stmt.where(events.c.start_at <= start_max)
    return list(conn.execute(stmt.order_by(*_START_ORDER)).mappings())


def list_events_by_production(
    conn: Connection, *, tenant_id: int, production_id: int
) -> list[RowMapping]:
    where = events.c.production_id == production_id
    return all_rows(conn, events, where, tenant_id=tenant_id, order_by=_START_ORDER)


def get_event(conn: Connection, *, tenant_id: int, event_id: int) -> RowMapping | None:
    return first_row(conn, events, events.c.event_id == event_id, tenant_id=tenant_id)


def list_events_by_ids(
    conn: Connection, *, tenant_id: int, event_ids: Collection[int]
) -> dict[int, RowMapping]:
    return rows_by(conn, events.c.event_id, event_ids, tenant_id=tenant_id)


@per_tenant
def event_and_version(tenant_id: int) -> Select[Any]:
    """SELECT the event `p_event` and its client's catalog version (one statement, one
    snapshot); kept per client: every read of an event's availability runs it."""
    return (
        scoped_select(events, *events.c, clients.c.catalog_version, tenant_id=tenant_id)
        .join_from(events, clients, clients.c.id == events.c.tenant_id)
        .where(events.c.event_id == bindparam("p_event"))
    )


def get_event_and_version(
    conn: Connection, *, tenant_id: int, event_id: int
) -> tuple[RowMapping, int] | None:
    """The event and its client's catalog version, read in one statement (one snapshot)."""
    row = run_first(conn, event_and_version(tenant_id), {"p_event": event_id})
    return None if row is None else (row, int(row["catalog_version"]))


# Built once: every hold reads it.
_CATALOG_VERSION = select(clients.c.catalog_version).where(clients.c.id == bindparam("p_client"))


def get_catalog_version(conn: Connection, *, tenant_id: int) -> int:
    """The client's catalog version (moved by every catalog load that changes something)."""
    return int(conn.execute(_CATALOG_VERSION, {"p_client": tenant_id}).scalar_one())


def update_catalog_version(conn: Connection, *, tenant_id: int) -> None:
    """Move the client's catalog version on: its cached layouts are no longer used."""
    stmt = (
        update(clients)
        .where(clients.c.id == tenant_id)
        .values(catalog_version=clients.c.catalog_version + 1)
    )
    conn.execute(stmt)


def get_production(conn: Connection, *, tenant_id: int, production_id: int) -> RowMapping | None:
    where = productions.c.production_id == production_id
    return first_row(conn, productions, where, tenant_id=tenant_id)


def list_prices_by_event(
    conn: Connection, *, tenant_id: int, event_ids: Collection[int]
) -> dict[int, list[RowMapping]]:
    """Prices per event id: by rank, the dearest first, then by price id."""
    order = (prices.c.rank_id, prices.c.amount_cents.desc(), prices.c.price_id)
    return rows_grouped_by(conn, prices.c.event_id, event_ids, tenant_id=tenant_id, order_by=order)


def list_prices_by_ids(
    conn: Connection, *, tenant_id: int, price_ids: Collection[str]
) -> dict[str, RowMapping]:
    return rows_by(conn, prices.c.price_id, price_ids, tenant_id=tenant_id)


@per_tenant
def _prices_of_ids(tenant_id: int) -> Select[Any]:
    """The prices of the ids p_prices (a list; `= ANY`: one statement for any number of
    ids, and no conversion for run_pipelined)."""
    ids = any_(bindparam("p_prices"))
    return scoped_select(prices, tenant_id=tenant_id).where(prices.c.price_id == ids)


def prices_by_ids_sent(*, tenant_id: int, price_ids: Collection[str]) -> Pipelined:
    """PostgreSQL: `list_prices_by_ids` as a statement to send in a pipeline
    (run_pipelined); its rows are the prices found."""
    return _prices_of_ids(tenant_id), {"p_prices": sorted(price_ids)}


def list_halls(conn: Connection, *, tenant_id: int) -> list[RowMapping]:
    return all_rows(conn, halls, tenant_id=tenant_id, order_by=[halls.c.hall_id])


def get_hall(conn: Connection, *, tenant_id: int, hall_id: int) -> RowMapping | None:
    return first_row(conn, halls, halls.c.hall_id == hall_id, tenant_id=tenant_id)


def list_sections(conn: Connection, *, tenant_id: int, hall_id: int) -> list[RowMapping]:
    where = hall_sections.c.hall_id == hall_id
    order = [hall_sections.c.section_id]
    return all_rows(conn, hall_sections, where, tenant_id=tenant_id, order_by=order)


def list_hall_seats(conn: Connection, *, tenant_id: int, hall_id: int) -> list[RowMapping]:
    """Every seat of a hall, in plan order: section, row, seat number."""
    where = hall_seats.c.hall_id == hall_id
    order = (hall_seats.c.section_id, hall_seats.c.row_nr, hall_seats.c.seat_nr)
    return all_rows(conn, hall_seats, where, tenant_id=tenant_id, order_by=order)


def list_capacities(conn: Connection, *, tenant_id: int, event_id: int) -> dict[int, int]:
    """Places per rank of an unreserved event."""
    stmt = scoped_select(
        event_capacities,
        event_capacities.c.rank_id,
        event_capacities.c.places,
        tenant_id=tenant_id,
    ).where(event_capacities.c.event_id == event_id)
    return {rank_id: places for rank_id, places in conn.execute(stmt)}


def list_blocks(conn: Connection, *, tenant_id: int, event_id: int) -> list[RowMapping]:
    where = event_blocks.c.event_id == event_id
    return all_rows(conn, event_blocks, where, tenant_id=tenant_id, order_by=[event_blocks.c.id])


def list_payment_methods(conn: Connection, *, tenant_id: int) -> list[RowMapping]:
    order = [payment_methods.c.payment_method_id]
    return all_rows(conn, payment_methods, tenant_id=tenant_id, order_by=order)


@per_tenant
def _payment_method(tenant_id: int) -> Select[Any]:
    return scoped_select(payment_methods, tenant_id=tenant_id).where(
        payment_methods.c.payment_method_id == bindparam("p_method")
    )


def get_payment_method(
    conn: Connection, *, tenant_id: int, payment_method_id: int
) -> RowMapping | None:
    """A payment method by id (every checkout reads one: its statement is kept)."""
    sent = payment_method_sent(tenant_id=tenant_id, payment_method_id=payment_method_id)
    return run_first(conn, *sent)


def payment_method_sent(*, tenant_id: int, payment_method_id: int) -> Pipelined:
    """`get_payment_method` as a statement to send in a pipeline (run_pipelined)."""
    return _payment_method(tenant_id), {"p_method": payment_method_id}


@per_tenant
def _events_locked(tenant_id: int) -> Select[Any]:
    return _locking(tenant_id, events.c.event_id.in_(bindparam("p_events", expanding=True)))


@per_tenant
def _event_locked(tenant_id: int) -> Select[Any]:
    return _locking(tenant_id, events.c.event_id == bindparam("p_event"))


def _locking(tenant_id: int, which: ColumnElement[bool]) -> Select[Any]:
    """The events `which` with the client's catalog version, row-locked (lock_events)."""
    return (
        scoped_select(events, *events.c, clients.c.catalog_version, tenant_id=tenant_id)
        .join_from(events, clients, clients.c.id == events.c.tenant_id)
        .where(which)
        .order_by(events.c.event_id)
        .with_for_update(key_share=True, of=events)
    )


def lock_events(
    conn: Connection, *, tenant_id: int, event_ids: Collection[int]
) -> tuple[dict[int, RowMapping], int]:
    """Row-lock the events in ascending id order (so that two transactions never deadlock),
    and read them as locked with the client's catalog version, in one statement: ({event
    id: row}, version).

    FOR NO KEY UPDATE OF events does not block inserts that merely reference an event, nor
    lock the client's row. PostgreSQL locks the rows as the ORDER BY returns them, and
    returns the newest version of an event it waited for; the client's row (the version)
    is as the statement's snapshot saw it, so a catalog load that commits while a hold
    waits for the lock is seen by the next request. SQLite renders no lock clause: BEGIN
    IMMEDIATE serialises its writers already.
    """
    if not event_ids:
        return {}, 0
    stmt = _events_locked(tenant_id)
    rows = run_one(conn, stmt, {"p_events": sorted(event_ids)})
    version = int(rows[0]["catalog_version"]) if rows else 0
    return {row["event_id"]: row for row in rows}, version


def lock_event_then(
    conn: Connection, *, tenant_id: int, event_id: int, then: Sequence[Pipelined]
) -> tuple[dict[int, RowMapping], int, list[list[RowMapping]]]:
    """PostgreSQL: `lock_events` of one event, and `then` run as soon as the lock is
    granted, in the same round trip (`run_pipelined`): what `lock_events` returns, and the
    rows of each statement of `then` (which read what the lock's last holder committed)."""
    locked, *rows = run_pipelined(conn, [(_event_locked(tenant_id), {"p_event": event_id}), *then])
    version = int(locked[0]["catalog_version"]) if locked else 0
    return {row["event_id"]: row for row in locked}, version, rows


def is_hall_seat_blocked(
    conn: Connection, *, tenant_id: int, event_id: int, hall_seat_id: int
) -> bool:
    stmt = scoped_select(event_blocks, event_blocks.c.id, tenant_id=tenant_id).where(
        event_blocks.c.event_id == event_id, event_blocks.c.hall_seat_id == hall_seat_id
    )
    return conn.execute(stmt.limit(1)).first() is not None


def count_sellable_units(conn: Connection, *, tenant_id: int, event_id: int, rank_id: int) -> int:
    """An unreserved event's places of a rank, less those blocked from sale."""
    capacity = conn.execute(
        scoped_select(event_capacities, event_capacities.c.places, tenant_id=tenant_id).where(
            event_capacities.c.event_id == event_id, event_capacities.c.rank_id == rank_id
        )
    ).scalar_one_or_none()
    blocked = conn.execute(
        scoped_select(
            event_blocks, func.coalesce(func.sum(event_blocks.c.places), 0), tenant_id=tenant_id
        ).where(
            event_blocks.c.event_id == event_id,
            event_blocks.c.rank_id == rank_id,
            event_blocks.c.hall_seat_id.is_(None),
        )
    ).scalar_one()
    return max(0, int(capacity or 0) - int(blocked))


def list_rank_names(conn: Connection, *, tenant_id: int) -> dict[int, str]:
    stmt = scoped_select(ranks, ranks.c.rank_id, ranks.c.name, tenant_id=tenant_id)
    return {int(rank_id): name for rank_id, name in conn.execute(stmt)}


def list_section_names_of_seats(
    conn: Connection, *, tenant_id: int, hall_seat_ids: Collection[int]
) -> dict[int, str]:
    """{hall seat id: the name of its section}."""
    if not hall_seat_ids:
        return {}
    stmt = (
        scoped_select(hall_seats, hall_seats.c.id, hall_sections.c.name, tenant_id=tenant_id)
        .join(
            hall_sections,
            same_tenant(hall_sections, hall_seats)
            & (hall_sections.c.hall_id == hall_seats.c.hall_id)
            & (hall_sections.c.section_id == hall_seats.c.section_id),
        )
        .where(hall_seats.c.id.in_(list(hall_seat_ids)))
    )
    return {int(seat_id): name for seat_id, name in conn.execute(stmt)}


def list_hall_names(conn: Connection, *, tenant_id: int) -> dict[int, str]:
    stmt = scoped_select(halls, halls.c.hall_id, halls.c.name, tenant_id=tenant_id)
    return {int(hall_id): name for hall_id, name in conn.execute(stmt)}
