"""Catalog loading: validate a whole catalog file, then upsert it into one client's tables.

The format, its rules and the reload semantics are documented in docs/catalog.md.
"""

from sqlalchemy import Connection, Table

from boxoffice.server.catalog import load_repository as repository
from boxoffice.server.catalog import tables
from boxoffice.server.catalog.load_public import EVENT_COLUMNS, TEXT_COLUMNS
from boxoffice.server.catalog.load_validation import Catalog, validate_catalog
from boxoffice.server.catalog.service import catalog_changed
from boxoffice.server.db.transactions import Tx
from boxoffice.server.errors import InvalidInput
from boxoffice.server.tenancy.service import Tenant


def load_catalog(tx: Tx, *, tenant: Tenant, data: object) -> str:
    """Validate a catalog file and upsert it into the client's catalog; returns a summary.

    Ids come from the file; what the file no longer lists is kept, because orders and
    carts refer to it (docs/catalog.md).
    """
    catalog = validate_catalog(data, timezone=tenant.timezone)
    conn, tenant_id = tx.conn, tenant.id
    repository.lock_client(conn, tenant_id=tenant_id)
    _check_stored_ids(conn, tenant_id, catalog)
    changes = repository.Changes()
    if catalog.timezone is not None and repository.update_client_timezone(
        conn, tenant_id=tenant_id, timezone=catalog.timezone
    ):
        changes.changed += 1
    # In foreign-key order: ranks and sections before seats, productions and halls before events.
    for table, keys, values, rows in _table_rows(catalog):
        changes += repository.sync_rows(
            conn, table, tenant_id=tenant_id, keys=keys, values=values, rows=rows
        )
    changes += _sync_blocks(tx, tenant_id, catalog)
    if changes.added or changes.changed:
        # In this transaction: the servers' cached layouts give way when it commits.
        catalog_changed(conn, tenant_id=tenant_id)
    return _summary(catalog, changes)


def _check_stored_ids(conn: Connection, tenant_id: int, catalog: Catalog) -> None:
    """A file's production must not take the id of a stored event, nor its event the id of a
    stored production: what a file no longer lists is kept, and GET /events/{id} of the
    public API answers both (the file itself is checked by validation)."""
    stored_productions, stored_events = repository.list_catalog_ids(conn, tenant_id=tenant_id)
    errors: dict[str, list[str]] = {}
    for production_id in sorted(set(catalog.productions) & stored_events):
        errors.setdefault("productions", []).append(
            f"productionId {production_id} is the id of a stored event; "
            "productions and events share one id space."
        )
    for event_id in sorted({e.event_id for e in catalog.events} & stored_productions):
        errors.setdefault("productions", []).append(
            f"eventId {event_id} is the id of a stored production; "
            "productions and events share one id space."
        )
    if errors:
        count = len(errors["productions"])
        noun = "problem" if count == 1 else "problems"
        raise InvalidInput(
            errors, message=f"The catalog file has {count} {noun}; nothing was loaded."
        )


_Rows = dict[tuple[object, ...], tuple[object, ...]]


def _table_rows(catalog: Catalog) -> list[tuple[Table, tuple[str, ...], tuple[str, ...], _Rows]]:
    """(table, key columns, value columns, {key: values}) of every catalog table."""
    hall_list = list(catalog.halls.values())
    return [
        (tables.client_types, ("name",), (), {(name,): () for name in catalog.client_types}),
        (
            tables.payment_methods,
            ("payment_method_id",),
            ("name", "fee_cents", "provider", "online"),
            {(i,): value for i, value in catalog.payment_methods.items()},
        ),
        (
            tables.ranks,
            ("rank_id",),
            ("name",),
            {(i,): (name,) for i, name in catalog.ranks.items()},
        ),
        (
            tables.halls,
            ("hall_id",),
            ("name", "address", "zip", "city", "phone", "url"),
            {(hall.hall_id,): hall.values for hall in hall_list},
        ),
        (
            tables.hall_sections,
            ("hall_id", "section_id"),
            ("name",),
            {
                (hall.hall_id, section_id): (name,)
                for hall in hall_list
                for section_id, name in hall.sections.items()
            },
        ),
        (
            tables.hall_seats,
            ("hall_id", "section_id", "row_nr", "seat_nr"),
            ("rank_id",),
            {
                (hall.hall_id, *seat): (rank_id,)
                for hall in hall_list
                for seat, rank_id in hall.seats.items()
            },
        ),
        (
            tables.productions,
            ("production_id",),
            ("name", *TEXT_COLUMNS),
            {
                (i,): (name, *catalog.production_texts[i].values())
                for i, name in catalog.productions.items()
            },
        ),
        (
            tables.events,
            ("event_id",),
            (
                "production_id",
                "name",
                "event_type",
                "event_tags",
                "start_at",
                "end_at",
                "hall_id",
                "seating",
                *TEXT_COLUMNS,
                *EVENT_COLUMNS,
            ),
            {
                (e.event_id,): (
                    e.production_id,
                    e.name,
                    e.event_type,
                    e.tags_json,
                    e.start_at,
                    e.end_at,
                    e.hall_id,
                    e.seating,
                    *e.texts.values(),
                    *e.public.values(),
                )
                for e in catalog.events
            },
        ),
        (
            tables.event_capacities,
            ("event_id", "rank_id"),
            ("places",),
            {
                (e.event_id, rank_id): (places,)
                for e in catalog.events
                for rank_id, places in e.capacity.items()
            },
        ),
        (
            tables.prices,
            ("price_id",),
            ("event_id", "name", "rank_id", "amount_cents"),
            {
                (p.price_id,): (e.event_id, p.name, p.rank_id, p.amount_cents)
                for e in catalog.events
                for p in e.prices
            },
        ),
    ]


def _sync_blocks(tx: Tx, tenant_id: int, catalog: Catalog) -> repository.Changes:
    """Replace the blocks of every event of the file whose blocks differ from the stored ones.

    Counted as added rows for an event that had none, as one change for an event whose
    blocks were replaced.
    """
    seat_ids = repository.list_hall_seat_ids(
        tx.conn,
        tenant_id=tenant_id,
        hall_ids={e.hall_id for e in catalog.events if e.seating == "reserved" and e.blocks},
    )
    stored = repository.list_event_blocks(tx.conn, tenant_id=tenant_id)
    replaced: dict[int, list[repository.BlockRow]] = {}
    changes = repository.Changes()
    for event in catalog.events:
        wanted: list[repository.BlockRow] = sorted(
            (
                (
                    block_type,
                    None if seat is None else seat_ids[(event.hall_id, *seat)],
                    rank_id,
                    places,
                )
                for block_type, seat, rank_id, places in event.blocks
            ),
            key=lambda row: (row[0], row[1] or 0, row[2], row[3]),
        )
        before = stored.get(event.event_id, [])
        if wanted != before:
            replaced[event.event_id] = wanted
            if before:
                changes.changed += 1
            else:
                changes.added += len(wanted)
    repository.replace_event_blocks(tx.conn, tenant_id=tenant_id, blocks=replaced)
    return changes


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def _summary(catalog: Catalog, changes: repository.Changes) -> str:
    parts = [
        _count(len(catalog.ranks), "rank"),
        _count(len(catalog.halls), "hall"),
        _count(sum(len(h.seats) for h in catalog.halls.values()), "seat"),
        _count(len(catalog.productions), "production"),
        _count(len(catalog.events), "event"),
        _count(sum(len(e.prices) for e in catalog.events), "price"),
        _count(sum(b[3] for e in catalog.events for b in e.blocks), "blocked place"),
        _count(len(catalog.payment_methods), "payment method"),
        _count(len(catalog.client_types), "client type"),
    ]
    if catalog.timezone is not None:
        parts.append(f"time zone {catalog.timezone}")
    if changes.added or changes.changed:
        outcome = f"{_count(changes.added, 'record')} added, {changes.changed:,} changed"
    else:
        outcome = "nothing changed"
    return f"{', '.join(parts)}; {outcome}"
