"""SQL for place claims. Every function takes a keyword-only tenant_id."""

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    CompoundSelect,
    Connection,
    Delete,
    Insert,
    Integer,
    RowMapping,
    Select,
    String,
    Update,
    any_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from boxoffice.server.catalog import repository as catalog_repository
from boxoffice.server.db.scoping import (
    PER_TENANT_STATEMENTS,
    per_tenant,
    scoped_delete,
    scoped_select,
    scoped_update,
)
from boxoffice.server.db.transactions import (
    Pipelined,
    run_count,
    run_each,
    run_many,
    run_one,
    run_pipelined,
    run_tuples,
)
from boxoffice.server.places.tables import place_claims, place_counts, place_sold_seats

# (event id, rank id): the key of a count.
CountKey = tuple[int, int]
# (event id, seat block): the key of a row of sold seats' bits.
BlockKey = tuple[int, int]

# A reserved seat's place key is this and its hall seat id; an unreserved unit's starts "u".
SEAT_KEY_PREFIX = "s"
# Seats per row of place_sold_seats: bits 0-62, so that every row is a positive 64-bit
# integer on both databases.
SEATS_PER_BLOCK = 63
_ALL_BITS = (1 << SEATS_PER_BLOCK) - 1


def seat_block(seat_id: int) -> tuple[int, int]:
    """(block, bit mask) of a seat in place_sold_seats."""
    return seat_id // SEATS_PER_BLOCK, 1 << (seat_id % SEATS_PER_BLOCK)


def _seat_bits(claims: Iterable[tuple[int, str]]) -> dict[BlockKey, int]:
    """{(event, block): bits} of the seats among claims of (event id, place key)."""
    bits: defaultdict[BlockKey, int] = defaultdict(int)
    for event_id, key in claims:
        if key.startswith(SEAT_KEY_PREFIX):
            block, mask = seat_block(int(key[len(SEAT_KEY_PREFIX) :]))
            bits[(event_id, block)] |= mask
    return bits


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


# The claims' unique key: a hold skips a place claimed already.
_CLAIM_KEY = (place_claims.c.tenant_id, place_claims.c.event_id, place_claims.c.place_key)
# The columns a hold sets, in this order (holds_insert_from's source selects them so).
HOLD_COLUMNS = ("tenant_id", "event_id", "place_key", "rank_id", "cart_item_id", "expires_at")


def _holds_insert(dialect: Any) -> Insert:
    """INSERT claims, skipping those whose place is claimed already (the unique key), and
    return the cart items of the claims it made."""
    stmt = dialect.insert(place_claims).on_conflict_do_nothing(index_elements=_CLAIM_KEY)
    return stmt.returning(place_claims.c.cart_item_id)  # type: ignore[no-any-return]


def holds_insert_from(source: Select[Any]) -> Insert:
    """PostgreSQL: insert_holds's INSERT with its rows from `source` (which selects
    HOLD_COLUMNS, in that order), for a statement that inserts holds together with rows of
    its own (carts.repository.insert_holding_items)."""
    return _holds_insert(postgresql).from_select(list(HOLD_COLUMNS), source)


def holds_insert_or_fail_from(source: Select[Any]) -> Insert:
    """PostgreSQL: `holds_insert_from` without its ON CONFLICT: a place claimed already
    fails the statement (a unique violation) instead of being skipped, for a statement
    sent with the transaction's COMMIT, which must then not commit (run_pipelined's
    `commit`: a statement that fails skips the COMMIT)."""
    stmt = postgresql.insert(place_claims).from_select(list(HOLD_COLUMNS), source)
    return stmt.returning(place_claims.c.cart_item_id)


# Built once per dialect: every hold runs it; each value a parameter of its column's name
# (a statement compiled once: run_each).
_HOLDS_INSERT = {
    name: _holds_insert(dialect).values({c: bindparam(c) for c in HOLD_COLUMNS})
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


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
    made = [row["cart_item_id"] for row in run_each(conn, _HOLDS_INSERT[conn.dialect.name], rows)]
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
    count_sales(conn, tenant_id=tenant_id, sales=[(event_id, rank_id, place_key)], sign=1)
    return True


def _counts_upsert(dialect: Any, **values: Any) -> Insert:
    """INSERT a count or add to it (ON CONFLICT DO UPDATE), in the dialect's own syntax;
    `values` as in Insert.values."""
    stmt = dialect.insert(place_counts).values(**values)
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[place_counts.c.tenant_id, place_counts.c.event_id, place_counts.c.rank_id],
        set_={"sold": place_counts.c.sold + stmt.excluded.sold},
    )


# Built once per dialect: counts change in every checkout. Each value a parameter of its
# column's name (a statement compiled once, for the driver: run_many).
_COUNT_COLUMNS = ("tenant_id", "event_id", "rank_id", "sold")
_COUNTS_UPSERT = {
    name: _counts_upsert(dialect, **{c: bindparam(c) for c in _COUNT_COLUMNS})
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


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
        run_many(conn, _COUNTS_UPSERT[conn.dialect.name], rows)


def _bits_upsert(dialect: Any, **values: Any) -> Insert:
    """INSERT a block of sold seats or OR its bits in (ON CONFLICT DO UPDATE): atomic on
    both databases, like the counts' upsert; `values` as `_counts_upsert`'s."""
    table = place_sold_seats
    stmt = dialect.insert(table).values(**values)
    bits = place_sold_seats.c.sold_bits
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[
            place_sold_seats.c.tenant_id,
            place_sold_seats.c.event_id,
            place_sold_seats.c.seat_block,
        ],
        set_={"sold_bits": bits.bitwise_or(stmt.excluded.sold_bits)},
    )


_BITS_COLUMNS = ("tenant_id", "event_id", "seat_block", "sold_bits")
_BITS_UPSERT = {
    name: _bits_upsert(dialect, **{c: bindparam(c) for c in _BITS_COLUMNS})
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


@per_tenant
def _bits_clear(tenant_id: int) -> Update:
    """Keep only the bits of `p_keep` in a block (an atomic AND in the UPDATE)."""
    return (
        scoped_update(place_sold_seats, tenant_id=tenant_id)
        .where(
            place_sold_seats.c.event_id == bindparam("p_event"),
            place_sold_seats.c.seat_block == bindparam("p_block"),
        )
        .values(sold_bits=place_sold_seats.c.sold_bits.bitwise_and(bindparam("p_keep")))
    )


def count_sales(
    conn: Connection, *, tenant_id: int, sales: Iterable[tuple[int, int, str]], sign: int
) -> None:
    """Add sales, (event id, rank id, place key) of claims without expiry, to what is kept
    of them (sign 1), or take them away (sign -1): the count of their (event, rank) and,
    of seats, their bits. Counts first, then bits, each in key order: two transactions
    lock the rows they share in the same order (PostgreSQL: no deadlock between them)."""
    sales = list(sales)
    if not sales:
        return
    counted = Counter((event_id, rank_id) for event_id, rank_id, _key in sales)
    add_to_counts(conn, tenant_id=tenant_id, deltas={k: sign * n for k, n in counted.items()})
    bits = _seat_bits((event_id, key) for event_id, _rank, key in sales)
    if sign > 0:
        _add_bits(conn, tenant_id, bits)
    else:
        keep = [
            {"p_event": e, "p_block": b, "p_keep": _ALL_BITS & ~mask}
            for (e, b), mask in sorted(bits.items())
        ]
        if keep:
            run_many(conn, _bits_clear(tenant_id), keep)


@per_tenant
def _count_added(tenant_id: int) -> Insert:
    """One count added to (_counts_upsert), its values named: for run_pipelined."""
    return _counts_upsert(
        postgresql,
        tenant_id=tenant_id,
        event_id=bindparam("p_event"),
        rank_id=bindparam("p_rank"),
        sold=bindparam("p_sold"),
    )


@per_tenant
def _bits_added(tenant_id: int) -> Insert:
    """One block's bits ORed in (_bits_upsert), its values named: for run_pipelined."""
    return _bits_upsert(
        postgresql,
        tenant_id=tenant_id,
        event_id=bindparam("p_event"),
        seat_block=bindparam("p_block"),
        sold_bits=bindparam("p_bits"),
    )


def _sales_kept(tenant_id: int, sales: Sequence[tuple[int, int, str]]) -> list[Pipelined]:
    """PostgreSQL: what `count_sales` (sign 1) does for these sales, as statements to send
    in a pipeline: the counts, then the bits, each in key order (the same order of locks
    as count_sales)."""
    counted = Counter((event_id, rank_id) for event_id, rank_id, _key in sales)
    bits = _seat_bits((event_id, key) for event_id, _rank, key in sales)
    return [
        *(
            (_count_added(tenant_id), {"p_event": e, "p_rank": r, "p_sold": n})
            for (e, r), n in sorted(counted.items())
        ),
        *(
            (_bits_added(tenant_id), {"p_event": e, "p_block": b, "p_bits": mask})
            for (e, b), mask in sorted(bits.items())
        ),
    ]


def _add_bits(conn: Connection, tenant_id: int, bits: Mapping[BlockKey, int]) -> None:
    """OR bits into their blocks (in key order), making the blocks that are missing."""
    rows = [
        {"tenant_id": tenant_id, "event_id": e, "seat_block": b, "sold_bits": mask}
        for (e, b), mask in sorted(bits.items())
    ]
    if rows:
        run_many(conn, _BITS_UPSERT[conn.dialect.name], rows)


def _change_counted(conn: Connection, *, tenant_id: int, stmt: Update | Delete, sign: int) -> int:
    """Run an UPDATE or DELETE of claims and add `sign` times the sales among the rows it
    changed (those without expiry, as they are returned) to what is kept; how many rows."""
    c = place_claims.c
    rows = conn.execute(stmt.returning(c.event_id, c.rank_id, c.place_key, c.expires_at)).all()
    sales = [(int(e), int(r), key) for e, r, key, expires_at in rows if expires_at is None]
    count_sales(conn, tenant_id=tenant_id, sales=sales, sign=sign)
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


def count_live_claims(
    conn: Connection, *, tenant_id: int, event_id: int, now: int, expire: bool = False
) -> Counter[int]:
    """Live claims per rank: the sales counted in place_counts plus the claims that expire
    after `now`, counted through ix_place_claims_expiry (only those rows are read). With
    `expire`, the event's claims that have expired by `now` are deleted first
    (`_read_live`)."""
    stmt = _read_live(
        conn, _live_claims_by_rank, tenant_id=tenant_id, event_id=event_id, now=now, expire=expire
    )
    return _live_claims(run_tuples(conn, stmt, {"p_event": event_id, "p_now": now}))


def _live_claims(rows: Iterable[Sequence[Any]]) -> Counter[int]:
    """{rank: live claims} of the rows of `_live_claims_by_rank`."""
    live: Counter[int] = Counter()
    for rank_id, n in rows:
        live[int(rank_id)] += int(n)
    return live


@per_tenant
def _event_and_live_claims(tenant_id: int) -> Select[Any]:
    """The event `p_event` with its catalog version (`catalog.repository.event_and_version`)
    and its live claims per rank at `p_now` as one text, "rank:claims,..." (the kept counts
    and the claims that expire, `_live_claims_by_rank`; a rank may come twice)."""
    live = _live_claims_by_rank(tenant_id).subquery()
    pair = cast(live.c.rank_id, String) + literal(":") + cast(live.c.sold, String)
    # The separator as SQL text (both dialects render it as given): a str would be a
    # parameter that SQLAlchemy renders into the SQL at each execution (literal_execute),
    # which `run_one` does not do.
    comma: ColumnElement[str] = literal_column("','")
    joined = (
        select(
            func.aggregate_strings(pair, comma)  # type: ignore[arg-type]
        )
        .select_from(live)
        .scalar_subquery()
    )
    return catalog_repository.event_and_version(tenant_id).add_columns(joined.label("live"))


def read_event_and_live_claims(
    conn: Connection, *, tenant_id: int, event_id: int, now: int
) -> tuple[RowMapping, Counter[int]] | None:
    """The event (with `catalog_version`) and its live claims per rank as
    `count_live_claims` counts them, in one statement: one round trip and one snapshot on
    PostgreSQL, where a read is a round trip a statement (`read_transaction`). None when
    there is no such event."""
    values = {"p_event": event_id, "p_now": now}
    rows = run_one(conn, _event_and_live_claims(tenant_id), values)
    if not rows:
        return None
    row = rows[0]
    live: Counter[int] = Counter()
    for pair in row["live"].split(",") if row["live"] else ():
        rank_id, claims = pair.split(":")
        live[int(rank_id)] += int(claims)
    return row, live


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
    """Set what is kept of these events' sales (counts and sold seats) from their claims,
    for writers that insert claims in bulk (such as the demo): one pass over the events'
    sales."""
    if not event_ids:
        return
    events = sorted(event_ids)
    for table in (place_counts, place_sold_seats):
        conn.execute(scoped_delete(table, tenant_id=tenant_id).where(table.c.event_id.in_(events)))
    c = place_claims.c
    sold = (c.event_id.in_(events), c.expires_at.is_(None))
    add_to_counts(conn, tenant_id=tenant_id, deltas=_count_claims(conn, tenant_id, *sold))
    seats = scoped_select(place_claims, c.event_id, c.place_key, tenant_id=tenant_id).where(
        *sold, c.place_key.startswith(SEAT_KEY_PREFIX)
    )
    # Streamed: the bits are built as the sales pass, whatever their number.
    sold_seats = conn.execute(seats.execution_options(yield_per=10_000))
    bits = _seat_bits((int(e), k) for e, k in sold_seats)
    _add_bits(conn, tenant_id, bits)


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


def _claimed_keys(tenant_id: int, *where: ColumnElement[bool]) -> Select[Any]:
    """SELECT the place keys of the claims that match the conditions, as one text.

    The keys are joined by commas in the database (`string_agg` on PostgreSQL,
    `group_concat` on SQLite; keys are `s<id>` or `u<rank>:<unit>`, never a comma): a
    sold-out 2,000-seat hall's keys cost the server 0.2-0.4 ms of CPU this way against
    1.2 ms as 2,000 rows (docs/benchmarks.md, "Where a request's time goes")."""
    keys = _joined(place_claims.c.place_key)
    return scoped_select(place_claims, keys, tenant_id=tenant_id).where(*where)


def _joined(keys: ColumnElement[str]) -> ColumnElement[str]:
    """The keys joined by commas, the comma in the SQL itself (given as a string, it is a
    value SQLAlchemy renders into the SQL at each execution: no driver's statement)."""
    return func.aggregate_strings(keys, literal_column("','"))  # type: ignore[arg-type]


def _read_keys(conn: Connection, stmt: Select[Any], values: Mapping[str, Any]) -> frozenset[str]:
    return _split_keys(conn.execute(stmt, values).scalar())


def _split_keys(joined: str | None) -> frozenset[str]:
    """The keys that `_joined` joined (None: no key)."""
    return frozenset(joined.split(",")) if joined else frozenset()


@per_tenant
def _claimed_among(tenant_id: int) -> Select[Any]:
    """`list_claimed_among`'s statement on SQLite (every unreserved hold probes with it):
    kept."""
    return _claimed_keys(
        tenant_id,
        place_claims.c.event_id == bindparam("p_event"),
        place_claims.c.place_key.in_(bindparam("p_keys", expanding=True)),
    )


@per_tenant
def _pg_claimed_among(tenant_id: int) -> Select[Any]:
    """`list_claimed_among`'s statement on PostgreSQL: for each key of `p_keys` (the keys
    joined by commas, made an array by the statement), its claim looked up through the
    unique key (a LATERAL subquery with LIMIT 1, one index lookup per key), the keys found
    joined by commas.

    Not `place_key IN (...)`: while place_claims has no statistics (a new database's first
    on-sale, before autovacuum's first ANALYZE) the planner took (tenant_id, event_id) for
    a handful of rows, and read the whole event through the unique key, filtering on the
    keys (3 ms of the server's CPU with 3,000 places sold, under the event's lock). Here
    the plan is a nested loop of unique-key lookups, one per key
    (tests/places/test_hold_plans.py reads it)."""
    # The keys as one text, not an array parameter (which SQLAlchemy converts, so that
    # the statement would not run on the driver).
    array = func.string_to_array(bindparam("p_keys", type_=String), literal_column("','"))
    keys = func.unnest(array).table_valued("place_key").render_derived(name="probe")
    claim = (
        scoped_select(place_claims, place_claims.c.place_key, tenant_id=tenant_id)
        .where(
            place_claims.c.event_id == bindparam("p_event"),
            place_claims.c.place_key == keys.c.place_key,
        )
        .limit(1)
        .lateral("claim")
    )
    return select(_joined(claim.c.place_key)).select_from(keys).join(claim, true())


def list_claimed_among(
    conn: Connection, *, tenant_id: int, event_id: int, place_keys: Collection[str]
) -> frozenset[str]:
    """Which of these places have a claim (sold or held, expired or not): one probe of the
    unique key per place, whatever the event's other claims."""
    if not place_keys:
        return frozenset()
    keys = sorted(place_keys)
    if conn.dialect.name == "postgresql":
        probe, values = _pg_claimed_among, {"p_event": event_id, "p_keys": ",".join(keys)}
    else:
        probe, values = _claimed_among, {"p_event": event_id, "p_keys": keys}
    # On the driver (every unreserved hold probes): an aggregate, always one row.
    ((joined,),) = run_tuples(conn, probe(tenant_id), values)
    return _split_keys(joined)


@dataclass(frozen=True, slots=True)
class TakenSeats:
    """A reserved event's live claims as they are read: the kept bits of its sold seats
    ({block: bits}, see `seat_block`) and the keys of its claims that expire and have not."""

    sold_blocks: Mapping[int, int]
    expiring_keys: frozenset[str]


@per_tenant
def _taken_seats(tenant_id: int) -> CompoundSelect[Any]:
    s, c = place_sold_seats.c, place_claims.c
    sold = scoped_select(
        place_sold_seats,
        s.seat_block,
        s.sold_bits,
        null().cast(c.place_key.type),
        tenant_id=tenant_id,
    ).where(s.event_id == bindparam("p_event"), s.sold_bits != literal(0))
    expiring = scoped_select(place_claims, null(), null(), c.place_key, tenant_id=tenant_id).where(
        c.event_id == bindparam("p_event"), c.expires_at > bindparam("p_now")
    )
    return union_all(sold, expiring)


def read_taken_seats(
    conn: Connection, *, tenant_id: int, event_id: int, now: int, expire: bool = False
) -> TakenSeats:
    """What of a reserved event is claimed live at `now`, in one statement whose cost does
    not grow with the seats sold: the kept bits (a row per 63 seats of the hall at most)
    and the claims that expire after `now` (through ix_place_claims_expiry). With `expire`,
    the event's claims that have expired by `now` are deleted first (`_read_live`)."""
    stmt = _read_live(
        conn, _taken_seats, tenant_id=tenant_id, event_id=event_id, now=now, expire=expire
    )
    return _taken(run_tuples(conn, stmt, {"p_event": event_id, "p_now": now}))


def _taken(rows: Iterable[Sequence[Any]]) -> TakenSeats:
    """The TakenSeats of the rows of `_taken_seats`."""
    blocks: dict[int, int] = {}
    keys: list[str] = []
    for block, bits, key in rows:
        if key is None:
            blocks[int(block)] = int(bits)
        else:
            keys.append(key)
    return TakenSeats(sold_blocks=blocks, expiring_keys=frozenset(keys))


@dataclass(frozen=True, slots=True)
class FirstReads:
    """What a claimer's first reads of a locked event found, its expired claims deleted
    (`first_reads`): the event's taken seats (`read_taken_seats`) and its live claims per
    rank (`count_live_claims`), for a reserved and an unreserved event alike."""

    taken: TakenSeats
    live: Counter[int]


@per_tenant
def _first_reads(tenant_id: int) -> CompoundSelect[Any]:
    """`_taken_seats` and `_live_claims_by_rank` as one read (each row led by the read it
    is of: 0 the taken seats', 1 the live claims'), the event's expired claims deleted by
    its WITH clause first (PostgreSQL)."""
    taken = _taken_seats(tenant_id).subquery("taken")
    live = _live_claims_by_rank(tenant_id).subquery("live")
    return union_all(
        select(literal(0, Integer).label("read"), *taken.c),
        select(literal(1, Integer), *live.c, null().cast(place_claims.c.place_key.type)),
    ).add_cte(_expired_claims_cte(tenant_id))


def first_reads(*, tenant_id: int, event_id: int, now: int) -> list[Pipelined]:
    """PostgreSQL: a claimer's first reads of an event, to run as soon as it holds the
    event's lock (catalog's `lock_event_then`), in one statement: the event's expired
    claims deleted, its taken seats (`read_taken_seats` with `expire`) and its live claims
    per rank (`count_live_claims`). Both reads, whatever the event's seating, as its
    seating is known once the lock is granted; the one a hold does not need costs an index
    read, where a statement of its own cost more than its rows (docs/benchmarks.md)."""
    return [(_first_reads(tenant_id), {"p_event": event_id, "p_now": now})]


def first_reads_found(rows: Sequence[Sequence[RowMapping]]) -> FirstReads:
    """The FirstReads of the rows of `first_reads`' statement."""
    (read_rows,) = rows
    taken = [tuple(row.values())[1:] for row in read_rows if row["read"] == 0]
    live = [tuple(row.values())[1:3] for row in read_rows if row["read"] == 1]
    return FirstReads(taken=_taken(taken), live=_live_claims(live))


def list_claimed_place_keys(
    conn: Connection, *, tenant_id: int, event_id: int, place_key_prefix: str
) -> frozenset[str]:
    """The keys starting with the prefix that are claimed (sold or held, expired or not)."""
    of_prefix = place_claims.c.place_key.startswith(place_key_prefix, autoescape=True)
    stmt = _claimed_keys(tenant_id, place_claims.c.event_id == event_id, of_prefix)
    return _read_keys(conn, stmt, {})


@per_tenant
def _expired_claims(tenant_id: int) -> Delete:
    return scoped_delete(place_claims, tenant_id=tenant_id).where(
        place_claims.c.event_id == bindparam("p_event"),
        place_claims.c.expires_at.is_not(None),
        place_claims.c.expires_at <= bindparam("p_now"),
    )


def _expired_claims_cte(tenant_id: int) -> CTE:
    """`_expired_claims` as a WITH clause of a read (PostgreSQL): run once, to completion,
    whether or not the read refers to it."""
    return _expired_claims(tenant_id).returning(place_claims.c.id).cte("expired_claims")


_Read = Callable[[int], CompoundSelect[Any]]


@lru_cache(maxsize=PER_TENANT_STATEMENTS)
def _deleting_expired(read: _Read, tenant_id: int) -> CompoundSelect[Any]:
    """`read(tenant_id)` with `_expired_claims` as a WITH clause (PostgreSQL), kept per
    read and client like the read itself (`per_tenant`)."""
    return read(tenant_id).add_cte(_expired_claims_cte(tenant_id))


def _read_live(
    conn: Connection,
    read: _Read,
    *,
    tenant_id: int,
    event_id: int,
    now: int,
    expire: bool,
) -> CompoundSelect[Any]:
    """The statement of a read of an event's live claims (`read`); with `expire`, one that
    deletes the event's expired claims first (a claimer's first read under the event's
    lock: its holds come after). On PostgreSQL the DELETE is a WITH clause of the read
    (`_deleting_expired`: one round trip less while the event's other buyers wait for its
    lock); the read's snapshot still holds the rows deleted, and leaves them out as every
    live read does (`expires_at > now`). On SQLite (in process) the DELETE runs just
    before `read`."""
    if not expire:
        return read(tenant_id)
    if conn.dialect.name == "postgresql":
        return _deleting_expired(read, tenant_id)
    delete_expired_holds(conn, tenant_id=tenant_id, event_id=event_id, now=now)
    return read(tenant_id)


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
    values = {"p_event": event_id, "p_now": now}
    if place_key is None and place_key_prefix is None:
        return run_count(conn, stmt, values)  # the kept statement, on the driver
    if place_key is not None:
        stmt = stmt.where(place_claims.c.place_key == place_key)
    if place_key_prefix is not None:
        stmt = stmt.where(place_claims.c.place_key.startswith(place_key_prefix, autoescape=True))
    return conn.execute(stmt, values).rowcount


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
    place_key: str


def live_holds_locked(tenant_id: int, cart_item_ids: ColumnElement[bool]) -> Select[Any]:
    """The unexpired holds of the cart items that `cart_item_ids` (a condition on the claims'
    cart_item_id) names, row-locked until commit; `p_now` is bound at execution. Rows for
    `locked_holds`."""
    c = place_claims.c
    stmt = scoped_select(
        place_claims, c.cart_item_id, c.id, c.event_id, c.rank_id, c.place_key, tenant_id=tenant_id
    ).where(c.order_seat_id.is_(None), c.expires_at > bindparam("p_now"), cart_item_ids)
    return stmt.with_for_update()


def locked_holds(rows: Iterable[RowMapping]) -> dict[int, LockedHold]:
    """{cart item id: its hold} from the rows of a `live_holds_locked` statement."""
    return {
        int(row["cart_item_id"]): LockedHold(
            int(row["id"]), int(row["event_id"]), int(row["rank_id"]), row["place_key"]
        )
        for row in rows
    }


@per_tenant
def _live_holds_locked(tenant_id: int) -> Select[Any]:
    items = place_claims.c.cart_item_id.in_(bindparam("p_items", expanding=True))
    return live_holds_locked(tenant_id, items)


def lock_live_holds(
    conn: Connection, *, tenant_id: int, cart_item_ids: Collection[int], now: int
) -> dict[int, LockedHold]:
    """{cart item id: its hold} of these items' unexpired holds, row-locked until commit."""
    if not cart_item_ids:
        return {}
    values = {"p_now": now, "p_items": list(cart_item_ids)}
    return locked_holds(run_one(conn, _live_holds_locked(tenant_id), values))


@lru_cache(maxsize=PER_TENANT_STATEMENTS)
def _live_holds_of(tenant_id: int, cart_item_ids: Select[Any]) -> Select[Any]:
    # The items' ids as one array, computed once (an InitPlan), the claims filtered by
    # `cart_item_id = ANY(...)`: as a join (`IN (SELECT ...)`), a new database's generic
    # plan (no statistics of the claims yet) read the client's every live hold through the
    # expiry index once per item; so, once in all, as with the ids bound as a list.
    ids = cart_item_ids.subquery()
    array = cast(select(func.array_agg(ids.c[0])).scalar_subquery(), postgresql.ARRAY(Integer))
    return live_holds_locked(tenant_id, place_claims.c.cart_item_id == any_(array))


def live_holds_sent(*, tenant_id: int, cart_item_ids: Pipelined, now: int) -> Pipelined:
    """`lock_live_holds` as a statement to send in a pipeline (run_pipelined), for the cart
    items whose ids `cart_item_ids` selects (a kept SELECT of one column, and its values);
    its rows are for `locked_holds`."""
    select_ids, values = cart_item_ids
    assert isinstance(select_ids, Select)
    return _live_holds_of(tenant_id, select_ids), {**values, "p_now": now}


@per_tenant
def _claim_sold(tenant_id: int) -> Update:
    """The claim `p_id` sold to the order seat `p_seat`, expiring at `p_until`."""
    return (
        scoped_update(place_claims, tenant_id=tenant_id)
        .where(place_claims.c.id == bindparam("p_id"))
        .values(
            order_seat_id=bindparam("p_seat"), cart_item_id=None, expires_at=bindparam("p_until")
        )
    )


# The columns that `claims_sold_from`'s source selects, in this order.
SALE_COLUMNS = ("claim_id", "seat_id")


def claims_sold_from(tenant_id: int, sales: Select[Any]) -> Update:
    """PostgreSQL: update_claims_sold's UPDATE with its sales from `sales` (which selects
    SALE_COLUMNS: a claim's id and the order seat it is sold to), for a statement that
    inserts the order seats together with their sales (orders.repository); each expires at
    `p_until` (None: a sale). RETURNING the claims sold.

    Each claim is found through the primary key (a LATERAL subquery with LIMIT 1), then
    changed where its row lies (`ctid`; the row is locked by this transaction, so it cannot
    move). Joined to the sales by id alone, a new database's generic plan, made while the
    claims table was a few pages, found them by a scan of the client's every claim, the
    ids a join filter, and kept that plan as the claims grew: 1.36 ms a checkout against
    0.29 by the end of a 4,000-place sale (tests/places/test_hold_plans.py reads the plan)."""
    source = sales.subquery("sales")
    claim_id, seat_id = (source.c[name] for name in SALE_COLUMNS)
    tid: ColumnElement[Any] = literal_column("ctid")
    found = (
        scoped_select(place_claims, tid.label("tid"), tenant_id=tenant_id)
        .where(place_claims.c.id == claim_id)
        .limit(1)
        .lateral("found")
    )
    picked = (
        select(found.c.tid, seat_id.label("seat_id"))
        .select_from(source)
        .join(found, true())
        .subquery("picked")
    )
    return (
        scoped_update(place_claims, tenant_id=tenant_id)
        .where(literal_column("place_claims.ctid") == picked.c.tid)
        .values(order_seat_id=picked.c.seat_id, cart_item_id=None, expires_at=bindparam("p_until"))
        .returning(place_claims.c.id)
    )


def sales_kept_sent(
    *, tenant_id: int, holds: Sequence[LockedHold], expires_at: int | None
) -> list[Pipelined]:
    """PostgreSQL: what `update_claims_sold` keeps of the sales of these holds (nothing
    for a reservation's, which expire), as statements to send in a pipeline after the
    claims' update (claims_sold_from): the counts' rows are locked from then until commit."""
    if expires_at is not None:
        return []
    return _sales_kept(tenant_id, [(h.event_id, h.rank_id, h.place_key) for h in holds])


def update_claims_sold(
    conn: Connection,
    *,
    tenant_id: int,
    sales: Sequence[tuple[LockedHold, int]],
    expires_at: int | None,
    last: bool = False,
) -> None:
    """Turn locked holds into sales: (hold, order seat id) pairs. A sale has no expiry; the
    places of a reservation expire with it (`expires_at`). `last`: these are the write
    transaction's last statements; on PostgreSQL its COMMIT is sent with them
    (run_pipelined's `commit`), so that the kept counts' rows, which every checkout of the
    event changes, are locked for no round trip more."""
    if not sales:
        return
    changes = [
        {"p_id": hold.claim_id, "p_seat": seat_id, "p_until": expires_at} for hold, seat_id in sales
    ]
    if conn.dialect.name == "postgresql":
        # The claims' updates and then what is kept of the sales in ONE round trip
        # (run_pipelined, run in this order): the counts' rows, which every checkout of the
        # event shares, are locked last as below.
        kept: list[Pipelined] = []
        if expires_at is None:
            kept = _sales_kept(tenant_id, [(h.event_id, h.rank_id, h.place_key) for h, _ in sales])
        updates = ((_claim_sold(tenant_id), change) for change in changes)
        run_pipelined(conn, [*updates, *kept], commit=last)
        return
    run_many(conn, _claim_sold(tenant_id), changes)
    if expires_at is None:
        # Holds (they expire; locked, so no one changes them meanwhile) that become sales
        # without expiry: counted, from what the lock read (no second read of the claims).
        # Last: the counts' rows are shared by the event's every checkout, and are locked
        # from here until commit (the claims' rows are this checkout's, locked already).
        sold = [(hold.event_id, hold.rank_id, hold.place_key) for hold, _seat in sales]
        count_sales(conn, tenant_id=tenant_id, sales=sold, sign=1)


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
