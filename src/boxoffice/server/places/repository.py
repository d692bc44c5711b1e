"""SQL for place claims. Every function takes a keyword-only tenant_id."""

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Delete,
    Insert,
    Select,
    Update,
    bindparam,
    func,
    insert,
    or_,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from boxoffice.server.db.scoping import per_tenant, scoped_delete, scoped_select, scoped_update
from boxoffice.server.places.tables import place_claims, place_counts

# (event id, rank id): the key of a count.
CountKey = tuple[int, int]


def _live_at(now: int) -> ColumnElement[bool]:
    """A claim is live at `now`: a sale (no expiry), or a hold or reservation that expires
    after `now`."""
    return or_(place_claims.c.expires_at.is_(None), place_claims.c.expires_at > now)


@dataclass(frozen=True, slots=True)
class NewHold:
    """A cart item's hold on one place of an event."""

    event_id: int
    place_key: str
    rank_id: int
    cart_item_id: int


def _holds_insert(dialect: Any) -> Insert:
    """INSERT claims, skipping those whose place is claimed already (the unique key), and
    return the cart items of the claims it made."""
    key = [place_claims.c.tenant_id, place_claims.c.event_id, place_claims.c.place_key]
    stmt = dialect.insert(place_claims).on_conflict_do_nothing(index_elements=key)
    return stmt.returning(place_claims.c.cart_item_id)  # type: ignore[no-any-return]


# Built once per dialect: every hold runs it.
_HOLDS_INSERT = {"postgresql": _holds_insert(postgresql), "sqlite": _holds_insert(sqlite)}


def insert_holds(
    conn: Connection, *, tenant_id: int, holds: Sequence[NewHold], expires_at: int
) -> bool:
    """Insert every hold, or none: False when a place is claimed already (the unique key).

    One INSERT that skips the places claimed already (ON CONFLICT DO NOTHING on the unique
    key, which still decides: a concurrent insert of the same place waits for the other
    transaction and is then skipped or made). When it made fewer rows than asked, the ones
    it made are deleted again, so that nothing of this call remains; no savepoint (two
    statements) is needed around it, as a skipped row raises no error.
    """
    rows = [
        {
            "tenant_id": tenant_id,
            "event_id": hold.event_id,
            "place_key": hold.place_key,
            "rank_id": hold.rank_id,
            "cart_item_id": hold.cart_item_id,
            "expires_at": expires_at,
        }
        for hold in holds
    ]
    if not rows:
        return True
    made = conn.execute(_HOLDS_INSERT[conn.dialect.name], rows).scalars().all()
    if len(made) == len(rows):
        return True
    delete_holds(conn, tenant_id=tenant_id, cart_item_ids=made)
    return False


def insert_claim(
    conn: Connection,
    *,
    tenant_id: int,
    event_id: int,
    place_key: str,
    rank_id: int,
    order_seat_id: int,
) -> bool:
    """Claim a place for an order seat; False when someone holds it already.

    The savepoint keeps the transaction usable after the unique violation on PostgreSQL.
    """
    stmt = insert(place_claims).values(
        tenant_id=tenant_id,
        event_id=event_id,
        place_key=place_key,
        rank_id=rank_id,
        order_seat_id=order_seat_id,
    )
    try:
        with conn.begin_nested():
            conn.execute(stmt)
    except IntegrityError:
        return False
    add_to_counts(conn, tenant_id=tenant_id, deltas={(event_id, rank_id): 1})
    return True


def _counts_upsert(dialect: Any) -> Insert:
    """INSERT a count or add to it (ON CONFLICT DO UPDATE), in the dialect's own syntax."""
    stmt = dialect.insert(place_counts)
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[place_counts.c.tenant_id, place_counts.c.event_id, place_counts.c.rank_id],
        set_={"sold": place_counts.c.sold + stmt.excluded.sold},
    )


# Built once per dialect: counts change in every checkout.
_COUNTS_UPSERT = {"postgresql": _counts_upsert(postgresql), "sqlite": _counts_upsert(sqlite)}


def add_to_counts(conn: Connection, *, tenant_id: int, deltas: Mapping[CountKey, int]) -> None:
    """Add to the sales counted per (event, rank): INSERT ... ON CONFLICT DO UPDATE, atomic
    on both databases, its rows in key order so that two transactions lock the counts they
    share in the same order (PostgreSQL: no deadlock between them)."""
    rows = [
        {"tenant_id": tenant_id, "event_id": event_id, "rank_id": rank_id, "sold": delta}
        for (event_id, rank_id), delta in sorted(deltas.items())
        if delta
    ]
    if rows:
        conn.execute(_COUNTS_UPSERT[conn.dialect.name], rows)


def _sales(rows: Iterable[Any]) -> Counter[CountKey]:
    """(event, rank) counts of the claims without expiry among rows of
    (event_id, rank_id, expires_at)."""
    return Counter(
        (int(event_id), int(rank_id))
        for event_id, rank_id, expires_at in rows
        if expires_at is None
    )


def _change_counted(conn: Connection, *, tenant_id: int, stmt: Update | Delete, sign: int) -> int:
    """Run an UPDATE or DELETE of claims that returns (event_id, rank_id, expires_at) of
    the rows it changed, and add `sign` times its sales to the counts; how many rows."""
    rows = conn.execute(
        stmt.returning(place_claims.c.event_id, place_claims.c.rank_id, place_claims.c.expires_at)
    ).all()
    sales = _sales(rows)
    add_to_counts(conn, tenant_id=tenant_id, deltas={key: sign * n for key, n in sales.items()})
    return len(rows)


@per_tenant
def _live_claims_by_rank(tenant_id: int) -> CompoundSelect[Any]:
    counted = scoped_select(
        place_counts, place_counts.c.rank_id, place_counts.c.sold, tenant_id=tenant_id
    ).where(place_counts.c.event_id == bindparam("p_event"))
    expiring = (
        scoped_select(place_claims, place_claims.c.rank_id, func.count(), tenant_id=tenant_id)
        .where(
            place_claims.c.event_id == bindparam("p_event"),
            place_claims.c.expires_at > bindparam("p_now"),
        )
        .group_by(place_claims.c.rank_id)
    )
    return union_all(counted, expiring)


def count_live_claims(conn: Connection, *, tenant_id: int, event_id: int, now: int) -> Counter[int]:
    """Live claims per rank: the sales counted in place_counts plus the claims that expire
    after `now`, counted through ix_place_claims_expiry (only those rows are read)."""
    live: Counter[int] = Counter()
    stmt = _live_claims_by_rank(tenant_id)
    for rank_id, n in conn.execute(stmt, {"p_event": event_id, "p_now": now}):
        live[int(rank_id)] += int(n)
    return live


def count_live_claims_of_places(
    conn: Connection, *, tenant_id: int, event_id: int, place_keys: Collection[str], now: int
) -> Counter[int]:
    """Live claims per rank on these places (through the unique key: one probe a place)."""
    if not place_keys:
        return Counter()
    stmt = (
        scoped_select(place_claims, place_claims.c.rank_id, func.count(), tenant_id=tenant_id)
        .where(
            place_claims.c.event_id == event_id,
            place_claims.c.place_key.in_(sorted(place_keys)),
            _live_at(now),
        )
        .group_by(place_claims.c.rank_id)
    )
    return Counter({int(rank_id): int(n) for rank_id, n in conn.execute(stmt)})


def recount(conn: Connection, *, tenant_id: int, event_ids: Collection[int]) -> None:
    """Set the counts of these events from their claims (for writers that insert claims in
    bulk, such as the demo): one pass over the events' claims."""
    if not event_ids:
        return
    conn.execute(
        scoped_delete(place_counts, tenant_id=tenant_id).where(
            place_counts.c.event_id.in_(sorted(event_ids))
        )
    )
    add_to_counts(
        conn,
        tenant_id=tenant_id,
        deltas=_count_claims(
            conn,
            tenant_id,
            place_claims.c.event_id.in_(sorted(event_ids)),
            place_claims.c.expires_at.is_(None),
        ),
    )


def _count_claims(
    conn: Connection, tenant_id: int, *where: ColumnElement[bool]
) -> dict[CountKey, int]:
    """How many claims per (event, rank) match the conditions."""
    stmt = (
        scoped_select(
            place_claims,
            place_claims.c.event_id,
            place_claims.c.rank_id,
            func.count(),
            tenant_id=tenant_id,
        )
        .where(*where)
        .group_by(place_claims.c.event_id, place_claims.c.rank_id)
    )
    return {(int(e), int(r)): int(n) for e, r, n in conn.execute(stmt)}


def list_live_claims(
    conn: Connection, *, tenant_id: int, event_id: int, now: int
) -> list[tuple[str, int]]:
    """(place_key, rank_id) of every place sold or held by an unexpired hold."""
    stmt = scoped_select(
        place_claims, place_claims.c.place_key, place_claims.c.rank_id, tenant_id=tenant_id
    ).where(
        place_claims.c.event_id == event_id,
        _live_at(now),
    )
    return [(key, rank_id) for key, rank_id in conn.execute(stmt)]


def _claimed_keys(
    conn: Connection, tenant_id: int, event_id: int, *where: ColumnElement[bool]
) -> frozenset[str]:
    """The place keys of the event's claims that match the conditions.

    Read as one text, the keys joined by commas in the database (`string_agg` on
    PostgreSQL, `group_concat` on SQLite; keys are `s<id>` or `u<rank>:<unit>`, never a
    comma): a sold-out 2,000-seat hall's keys cost the server 0.2-0.4 ms of CPU this way
    against 1.2 ms as 2,000 rows (docs/benchmarks.md, "Where a request's time goes")."""
    keys = func.aggregate_strings(place_claims.c.place_key, ",")
    stmt = scoped_select(place_claims, keys, tenant_id=tenant_id).where(
        place_claims.c.event_id == event_id, *where
    )
    joined = conn.execute(stmt).scalar()
    return frozenset(joined.split(",")) if joined else frozenset()


def list_claimed_among(
    conn: Connection, *, tenant_id: int, event_id: int, place_keys: Collection[str]
) -> frozenset[str]:
    """Which of these places have a claim (sold or held, expired or not): one probe of the
    unique key per place, whatever the event's other claims."""
    if not place_keys:
        return frozenset()
    among = place_claims.c.place_key.in_(sorted(place_keys))
    return _claimed_keys(conn, tenant_id, event_id, among)


def list_live_claim_keys(
    conn: Connection, *, tenant_id: int, event_id: int, now: int
) -> frozenset[str]:
    """The place keys of every place sold or held by an unexpired hold."""
    return _claimed_keys(conn, tenant_id, event_id, _live_at(now))


def list_claimed_place_keys(
    conn: Connection, *, tenant_id: int, event_id: int, place_key_prefix: str
) -> frozenset[str]:
    """The keys starting with the prefix that are claimed (sold or held, expired or not)."""
    of_prefix = place_claims.c.place_key.startswith(place_key_prefix, autoescape=True)
    return _claimed_keys(conn, tenant_id, event_id, of_prefix)


@per_tenant
def _expired_claims(tenant_id: int) -> Delete:
    return scoped_delete(place_claims, tenant_id=tenant_id).where(
        place_claims.c.event_id == bindparam("p_event"),
        place_claims.c.expires_at.is_not(None),
        place_claims.c.expires_at <= bindparam("p_now"),
    )


def delete_expired_holds(
    conn: Connection,
    *,
    tenant_id: int,
    event_id: int,
    now: int,
    place_key: str | None = None,
    place_key_prefix: str | None = None,
) -> int:
    """Delete the event's claims that have expired by `now` (cart holds, and the places of
    unpaid reservations): all of them, or those on one place, or on the places whose keys
    start with a prefix (one rank's units)."""
    stmt = _expired_claims(tenant_id)
    if place_key is not None:
        stmt = stmt.where(place_claims.c.place_key == place_key)
    if place_key_prefix is not None:
        stmt = stmt.where(place_claims.c.place_key.startswith(place_key_prefix, autoescape=True))
    return conn.execute(stmt, {"p_event": event_id, "p_now": now}).rowcount


def update_hold_expiry(
    conn: Connection, *, tenant_id: int, cart_item_ids: Collection[int], expires_at: int
) -> int:
    """Move the holds of these cart items to `expires_at`; returns how many there are."""
    if not cart_item_ids:
        return 0
    stmt = (
        scoped_update(place_claims, tenant_id=tenant_id)
        .where(
            place_claims.c.order_seat_id.is_(None),
            place_claims.c.cart_item_id.in_(list(cart_item_ids)),
        )
        .values(expires_at=expires_at)
    )
    return conn.execute(stmt).rowcount


def delete_holds(conn: Connection, *, tenant_id: int, cart_item_ids: Collection[int]) -> int:
    if not cart_item_ids:
        return 0
    stmt = scoped_delete(place_claims, tenant_id=tenant_id).where(
        place_claims.c.order_seat_id.is_(None),
        place_claims.c.cart_item_id.in_(list(cart_item_ids)),
    )
    return _change_counted(conn, tenant_id=tenant_id, stmt=stmt, sign=-1)


@dataclass(frozen=True, slots=True)
class LockedHold:
    """An unexpired hold, row-locked until commit: its claim and the count it joins when
    it becomes a sale."""

    claim_id: int
    event_id: int
    rank_id: int


@per_tenant
def _live_holds_locked(tenant_id: int) -> Select[Any]:
    c = place_claims.c
    stmt = scoped_select(
        place_claims, c.cart_item_id, c.id, c.event_id, c.rank_id, tenant_id=tenant_id
    ).where(
        c.order_seat_id.is_(None),
        c.expires_at > bindparam("p_now"),
        c.cart_item_id.in_(bindparam("p_items", expanding=True)),
    )
    return stmt.with_for_update()


def lock_live_holds(
    conn: Connection, *, tenant_id: int, cart_item_ids: Collection[int], now: int
) -> dict[int, LockedHold]:
    """{cart item id: its hold} of these items' unexpired holds, row-locked until commit."""
    if not cart_item_ids:
        return {}
    values = {"p_now": now, "p_items": list(cart_item_ids)}
    return {
        int(item_id): LockedHold(int(claim_id), int(event_id), int(rank_id))
        for item_id, claim_id, event_id, rank_id in conn.execute(
            _live_holds_locked(tenant_id), values
        )
    }


@per_tenant
def _claim_sold(tenant_id: int) -> Update:
    return (
        scoped_update(place_claims, tenant_id=tenant_id)
        .where(place_claims.c.id == bindparam("p_id"))
        .values(
            order_seat_id=bindparam("p_seat"), cart_item_id=None, expires_at=bindparam("p_until")
        )
    )


def update_claims_sold(
    conn: Connection,
    *,
    tenant_id: int,
    sales: Sequence[tuple[LockedHold, int]],
    expires_at: int | None,
) -> None:
    """Turn locked holds into sales: (hold, order seat id) pairs. A sale has no expiry; the
    places of a reservation expire with it (`expires_at`)."""
    if not sales:
        return
    if expires_at is None:
        # Holds (they expire; locked, so no one changes them meanwhile) that become sales
        # without expiry: counted, from what the lock read (no second read of the claims).
        sold = Counter((hold.event_id, hold.rank_id) for hold, _seat in sales)
        add_to_counts(conn, tenant_id=tenant_id, deltas=sold)
    conn.execute(
        _claim_sold(tenant_id),
        [
            {"p_id": hold.claim_id, "p_seat": seat_id, "p_until": expires_at}
            for hold, seat_id in sales
        ],
    )


def delete_claims_of_seats(conn: Connection, *, tenant_id: int, seat_ids: Collection[int]) -> None:
    """Release the places sold to these order seats."""
    if seat_ids:
        stmt = scoped_delete(place_claims, tenant_id=tenant_id).where(
            place_claims.c.order_seat_id.in_(list(seat_ids))
        )
        _change_counted(conn, tenant_id=tenant_id, stmt=stmt, sign=-1)


def lock_live_claims_of_seats(
    conn: Connection, *, tenant_id: int, seat_ids: Collection[int], now: int
) -> int:
    """How many of these order seats' claims are live (sold, or reserved until after
    `now`), row-locked until commit so that no claimer takes them as expired meanwhile."""
    if not seat_ids:
        return 0
    stmt = (
        scoped_select(place_claims, place_claims.c.id, tenant_id=tenant_id)
        .where(
            place_claims.c.order_seat_id.in_(list(seat_ids)),
            _live_at(now),
        )
        .with_for_update()
    )
    return len(conn.execute(stmt).all())


def update_claims_without_expiry(
    conn: Connection, *, tenant_id: int, seat_ids: Collection[int]
) -> None:
    """A reservation's places become sales without expiry (and are counted)."""
    if seat_ids:
        stmt = (
            scoped_update(place_claims, tenant_id=tenant_id)
            .where(
                place_claims.c.order_seat_id.in_(list(seat_ids)),
                place_claims.c.expires_at.is_not(None),
            )
            .values(expires_at=None)
        )
        _change_counted(conn, tenant_id=tenant_id, stmt=stmt, sign=1)
