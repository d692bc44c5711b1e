"""SQL of catalog loading: read what a client has, insert what is new, update what changed."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from boxoffice.server.catalog.tables import event_blocks, events, hall_seats, productions
from boxoffice.server.db.scoping import scoped_delete, scoped_select, scoped_update
from boxoffice.server.tenancy.tables import clients

# A block as stored: (block_type, hall_seat_id, rank_id, places).
BlockRow = tuple[str, int | None, int, int]


@dataclass(slots=True)
class Changes:
    """How many rows a load added and changed (a reload of the same file: zero and zero)."""

    added: int = 0
    changed: int = 0

    def __iadd__(self, other: "Changes") -> "Changes":
        self.added += other.added
        self.changed += other.changed
        return self


def lock_client(conn: Connection, *, tenant_id: int) -> None:
    """Serialise concurrent loads of one client.

    On PostgreSQL two loads of one client could otherwise both see a row as missing and
    both insert it; SQLite's write lock (BEGIN IMMEDIATE) serialises them already, and
    SQLAlchemy renders no FOR UPDATE there.
    """
    conn.execute(select(clients.c.id).where(clients.c.id == tenant_id).with_for_update())


def update_client_timezone(conn: Connection, *, tenant_id: int, timezone: str) -> bool:
    """Set the client's time zone; True if it changed."""
    stmt = (
        update(clients)
        .where(clients.c.id == tenant_id, clients.c.timezone != timezone)
        .values(timezone=timezone)
    )
    return conn.execute(stmt).rowcount > 0


def list_catalog_ids(conn: Connection, *, tenant_id: int) -> tuple[set[int], set[int]]:
    """(production ids, event ids) the client has stored."""
    production_ids = conn.execute(
        scoped_select(productions, productions.c.production_id, tenant_id=tenant_id)
    ).scalars()
    event_ids = conn.execute(
        scoped_select(events, events.c.event_id, tenant_id=tenant_id)
    ).scalars()
    return set(production_ids), set(event_ids)


def sync_rows(
    conn: Connection,
    table: Table,
    *,
    tenant_id: int,
    keys: Sequence[str],
    values: Sequence[str],
    rows: Mapping[tuple[object, ...], tuple[object, ...]],
) -> Changes:
    """Upsert `rows` ({key tuple: value tuple}) into a tenant's part of `table`.

    Rows are compared with what is stored first, so that only new rows are inserted and
    only rows whose values differ are updated: reloading the same file writes nothing.
    Rows of the tenant that are not in `rows` are left alone (see docs/catalog.md).
    """
    columns = [table.c[name] for name in (*keys, *values)]
    stored = {
        tuple(row[: len(keys)]): tuple(row[len(keys) :])
        for row in conn.execute(scoped_select(table, *columns, tenant_id=tenant_id))
    }
    added: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    for key, value in rows.items():
        before = stored.get(key)
        if before is None:
            added.append(
                {
                    "tenant_id": tenant_id,
                    **dict(zip(keys, key, strict=True)),
                    **dict(zip(values, value, strict=True)),
                }
            )
        elif before != value:
            changed.append(
                {f"p_{name}": v for name, v in zip((*keys, *values), (*key, *value), strict=True)}
            )
    if added:
        conn.execute(insert(table), added)
    if changed:
        stmt = (
            scoped_update(table, tenant_id=tenant_id)
            .where(*(table.c[name] == bindparam(f"p_{name}") for name in keys))
            .values({name: bindparam(f"p_{name}") for name in values})
        )
        conn.execute(stmt, changed)
    return Changes(added=len(added), changed=len(changed))


def list_hall_seat_ids(
    conn: Connection, *, tenant_id: int, hall_ids: Iterable[int]
) -> dict[tuple[int, int, int, int], int]:
    """Hall seat ids by (hall, section, row, seat)."""
    stmt = scoped_select(
        hall_seats,
        hall_seats.c.hall_id,
        hall_seats.c.section_id,
        hall_seats.c.row_nr,
        hall_seats.c.seat_nr,
        hall_seats.c.id,
        tenant_id=tenant_id,
    ).where(hall_seats.c.hall_id.in_(list(hall_ids)))
    return {(h, s, r, n): seat_id for h, s, r, n, seat_id in conn.execute(stmt)}


def list_event_blocks(conn: Connection, *, tenant_id: int) -> dict[int, list[BlockRow]]:
    """Every stored block of the client, per event, sorted (for comparison with a file)."""
    stmt = scoped_select(
        event_blocks,
        event_blocks.c.event_id,
        event_blocks.c.block_type,
        event_blocks.c.hall_seat_id,
        event_blocks.c.rank_id,
        event_blocks.c.places,
        tenant_id=tenant_id,
    )
    blocks: dict[int, list[BlockRow]] = {}
    for event_id, block_type, hall_seat_id, rank_id, places in conn.execute(stmt):
        blocks.setdefault(event_id, []).append((block_type, hall_seat_id, rank_id, places))
    for rows in blocks.values():
        rows.sort(key=_block_sort_key)
    return blocks


def replace_event_blocks(
    conn: Connection, *, tenant_id: int, blocks: Mapping[int, Sequence[BlockRow]]
) -> None:
    """Replace the blocks of the given events by the given rows."""
    if not blocks:
        return
    conn.execute(
        scoped_delete(event_blocks, tenant_id=tenant_id).where(
            event_blocks.c.event_id.in_(list(blocks))
        )
    )
    rows = [
        {
            "tenant_id": tenant_id,
            "event_id": event_id,
            "block_type": block_type,
            "hall_seat_id": hall_seat_id,
            "rank_id": rank_id,
            "places": places,
        }
        for event_id, event_rows in blocks.items()
        for block_type, hall_seat_id, rank_id, places in event_rows
    ]
    if rows:
        conn.execute(insert(event_blocks), rows)


def _block_sort_key(row: BlockRow) -> tuple[str, int, int, int]:
    block_type, hall_seat_id, rank_id, places = row
    return (block_type, hall_seat_id or 0, rank_id, places)
