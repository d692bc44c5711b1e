"""Carts: holding places, picking the best seats, and checking a cart out into an order.

Each ticket item holds its place through places/service.py (docs/development.md). Holds
expire with their cart; an expired hold no longer counts and is deleted before its event's
places are claimed again. Claims per event are serialised by a row lock on the event, and
the unique key of the place claims stays the guarantee: a concurrent loser picks again a
bounded number of times, then gets a 409. docs/carts-and-catalog.md has the rules.
"""

import secrets
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from boxoffice.server.carts import repository
from boxoffice.server.carts.repository import NewItem
from boxoffice.server.carts.schemas import CartItemInput, CheckoutInput
from boxoffice.server.carts.seating import pick_best, pick_best_in_one_row
from boxoffice.server.catalog import service as catalog
from boxoffice.server.catalog.service import HallSeat
from boxoffice.server.customers import service as customers
from boxoffice.server.customers.service import CustomerRecord
from boxoffice.server.db.engine import is_sqlite
from boxoffice.server.db.transactions import (
    Tx,
    autocommit_write,
    run_pipelined,
    write_transaction,
)
from boxoffice.server.errors import Conflict, Gone, InvalidInput, NotFound
from boxoffice.server.orders import service as orders
from boxoffice.server.orders.service import NewOrder, NewSeat
from boxoffice.server.places import service as places
from boxoffice.server.places.service import EventPlaces, NewHold, seat_key, unit_key
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.values.instants import micros_to_instant

_ALPHANUMERIC = string.ascii_letters + string.digits
# What a hold reads of a locked event: its counts, or its places.
_Read = TypeVar("_Read", places.EventCounts, places.EventPlaces)
CART_ID_LENGTH = 32
DONATION = "donation"
# At most this many ticket items in one cart, so that one cart cannot hold a whole hall.
MAX_TICKETS_PER_CART = 100
# Lines in one POST /cart/{cartId} request.
MAX_LINES_PER_REQUEST = 50
# Picks of one line after a concurrent claim took a picked place (unique violation).
MAX_CLAIM_ATTEMPTS = 5
MICROS_PER_MINUTE = 60_000_000


class CartExpired(Gone):
    def __init__(self) -> None:
        super().__init__("Cart expired.")


@dataclass(frozen=True, slots=True)
class CartView:
    cart: RowMapping
    items: Sequence[RowMapping]


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    order: Mapping[str, Any]
    seats: Sequence[Mapping[str, Any]]
    customer: Mapping[str, Any] | None
    tags: Sequence[str]


@dataclass(frozen=True, slots=True)
class _TicketLine:
    index: int
    price: RowMapping
    count: int
    seat_id: int | None


# Bytes below this map evenly onto the letters and digits (b % 62); the rest are dropped.
_EVEN_BYTES = 256 - 256 % len(_ALPHANUMERIC)


def _random_alphanumeric(length: int) -> str:
    """`length` letters and digits, each uniformly random from the OS's randomness, read in
    one call (secrets.choice reads it once a character: 52 reads an order)."""
    chars: list[str] = []
    while len(chars) < length:
        # 2x: with 8 of 256 byte values dropped, one read is nearly always enough.
        for byte in secrets.token_bytes(2 * length):
            if byte < _EVEN_BYTES:
                chars.append(_ALPHANUMERIC[byte % len(_ALPHANUMERIC)])
    return "".join(chars[:length])


def new_cart_id() -> str:
    return _random_alphanumeric(CART_ID_LENGTH)


def new_order_key() -> str:
    """Four groups of five letters and digits: XgFca-QmBxG-9WhAj-Osszb."""
    text = _random_alphanumeric(20)
    return "-".join(text[i : i + 5] for i in range(0, 20, 5))


def _by_id(cart_id: str, find: Callable[[], RowMapping | None]) -> RowMapping | None:
    """What `find` finds of the cart, or None without a statement when `cart_id` cannot be
    a cart's id (every cart id has CART_ID_LENGTH characters)."""
    return find() if len(cart_id) == CART_ID_LENGTH else None


def _find_cart(conn: Connection, tenant: Tenant, cart_id: str, *, lock: bool) -> RowMapping:
    """The cart if it exists for this client and is not closed (checked out or emptied)."""
    cart = _by_id(
        cart_id,
        lambda: repository.get_cart(conn, tenant_id=tenant.id, cart_id=cart_id, lock=lock),
    )
    if cart is None or cart["closed_at"] is not None:
        raise NotFound("Cart")
    return cart


def _live_cart(conn: Connection, tenant: Tenant, cart_id: str, now: int) -> RowMapping:
    """The open, unexpired cart, row-locked so that changes to one cart are serialised."""
    cart = _find_cart(conn, tenant, cart_id, lock=True)
    if cart["expires_at"] <= now:
        raise CartExpired()
    return cart


def _extend_live_cart(
    conn: Connection, tenant: Tenant, cart_id: str, now: int, expires_at: int
) -> RowMapping:
    """The open, unexpired cart moved to `expires_at`: row-locked by the statement that
    moves it (one statement, where _live_cart and then the move were two). A cart it
    did not move is missing or closed (404) or expired (410), as _live_cart tells."""
    cart = _by_id(
        cart_id,
        lambda: repository.extend_live_cart(
            conn, tenant_id=tenant.id, cart_id=cart_id, now=now, expires_at=expires_at
        ),
    )
    return _live_cart(conn, tenant, cart_id, now) if cart is None else cart


def _view(conn: Connection, tenant: Tenant, cart_id: str) -> CartView:
    cart = repository.get_cart(conn, tenant_id=tenant.id, cart_id=cart_id)
    assert cart is not None
    return CartView(
        cart=cart, items=repository.list_items(conn, tenant_id=tenant.id, cart_id=cart_id)
    )


def _extend_holds(tx: Tx, tenant: Tenant, items: Sequence[RowMapping], expires_at: int) -> None:
    """The holds of these items (their tickets) last until `expires_at`; a 410 when some of
    them are gone."""
    tickets = [int(item["id"]) for item in items if item["item_type"] == "ticket"]
    held = places.extend_holds(
        tx.conn, tenant_id=tenant.id, cart_item_ids=tickets, expires_at=expires_at
    )
    if held != len(tickets):
        # A concurrent claimer, whose clock had passed the cart's expiry, deleted some of its
        # holds: the cart did expire, and this request must not revive it half-empty.
        raise CartExpired()


def _extend(tx: Tx, tenant: Tenant, cart_id: str, hold_minutes: int) -> CartView:
    """After any change, the cart and every hold of it last `hold_minutes` from now; the
    cart as it now is."""
    expires_at = tx.now + hold_minutes * MICROS_PER_MINUTE
    cart = repository.update_cart_expiry(
        tx.conn, tenant_id=tenant.id, cart_id=cart_id, expires_at=expires_at
    )
    items = repository.list_items(tx.conn, tenant_id=tenant.id, cart_id=cart_id)
    _extend_holds(tx, tenant, items, expires_at)
    return CartView(cart=cart, items=items)


def _ticket_ids(conn: Connection, tenant: Tenant, cart_id: str) -> list[int]:
    """The ids of the cart's ticket items: the items that hold a place."""
    items = repository.list_items(conn, tenant_id=tenant.id, cart_id=cart_id)
    return [int(item["id"]) for item in items if item["item_type"] == "ticket"]


def create_cart(tx: Tx, *, tenant: Tenant, hold_minutes: int) -> CartView:
    """A new, empty cart: the row as inserted, and no items (nothing is read back)."""
    cart = repository.insert_cart(
        tx.conn,
        tenant_id=tenant.id,
        cart_id=new_cart_id(),
        now=tx.now,
        expires_at=tx.now + hold_minutes * MICROS_PER_MINUTE,
    )
    return CartView(cart=cart, items=[])


def open_cart(engine: Engine, *, tenant: Tenant, hold_minutes: int) -> CartView:
    """A new, empty cart, in a request's write of its own: on PostgreSQL one statement in
    autocommit (carts are not exported, so neither the write barrier nor a change stamp
    is needed: db/transactions.py, autocommit_write), stamped with the database's clock as
    a write transaction is; on SQLite a write transaction (create_cart)."""
    if is_sqlite(engine):
        with write_transaction(engine) as tx:
            return create_cart(tx, tenant=tenant, hold_minutes=hold_minutes)
    with autocommit_write(engine) as conn:
        cart = repository.insert_cart_at_clock(
            conn,
            tenant_id=tenant.id,
            cart_id=new_cart_id(),
            hold_micros=hold_minutes * MICROS_PER_MINUTE,
        )
    return CartView(cart=cart, items=[])


def get_cart(conn: Connection, *, tenant: Tenant, cart_id: str, now: int) -> CartView:
    cart = _find_cart(conn, tenant, cart_id, lock=False)
    if cart["expires_at"] <= now:
        raise CartExpired()
    return _view(conn, tenant, cart_id)


def _donation_item(index: int, line: CartItemInput) -> NewItem:
    if line.rank_id != 0:
        raise InvalidInput.field(f"{index}.rankId", "A donation has rankId 0.")
    if line.seat_id is not None:
        raise InvalidInput.field(f"{index}.seatId", "A donation has no seat.")
    if line.number_of_tickets != 1:
        raise InvalidInput.field(f"{index}.numberOfTickets", "A donation has no tickets.")
    if line.amount is None:
        raise InvalidInput.field(f"{index}.amount", "A donation needs an amount.")
    if line.amount < 1:
        raise InvalidInput.field(f"{index}.amount", "A donation must be at least 0.01.")
    return NewItem(
        item_type="donation",
        event_id=None,
        price_id=DONATION,
        price_name="Donation",
        rank_id=0,
        hall_seat_id=None,
        row_nr=None,
        seat_nr=None,
        description="Donation",
        amount_cents=line.amount,
        place_key=None,
    )


def _ticket_line(index: int, line: CartItemInput, prices: dict[str, RowMapping]) -> _TicketLine:
    price = prices.get(line.price_id)
    if price is None:
        raise InvalidInput.field(f"{index}.priceId", f"Price {line.price_id!r} does not exist.")
    if line.rank_id != price["rank_id"]:
        raise InvalidInput.field(
            f"{index}.rankId", f"Price {line.price_id!r} is of rank {price['rank_id']}."
        )
    if line.event_id is not None and line.event_id != price["event_id"]:
        raise InvalidInput.field(
            f"{index}.eventId", f"Price {line.price_id!r} is of event {price['event_id']}."
        )
    if line.amount is not None:
        raise InvalidInput.field(f"{index}.amount", "Only a donation has an amount.")
    if line.seat_id is not None and line.number_of_tickets != 1:
        raise InvalidInput.field(
            f"{index}.numberOfTickets", "A line with a seatId is for exactly one ticket."
        )
    return _TicketLine(index=index, price=price, count=line.number_of_tickets, seat_id=line.seat_id)


def _describe(event: RowMapping, tenant: Tenant, price: RowMapping, place: str | None) -> str:
    start = micros_to_instant(event["start_at"], tenant.timezone).strftime("%Y-%m-%d %H:%M")
    parts = [event["name"], start, price["name"]]
    if place is not None:
        parts.append(place)
    return ", ".join(parts)


def _ticket(
    event: RowMapping,
    line: _TicketLine,
    tenant: Tenant,
    place_key: str,
    seat: HallSeat | None = None,
    section_name: str = "",
) -> NewItem:
    """The cart item of one place picked for a line (a seat, or a unit of an unreserved
    event)."""
    price = line.price
    where = None if seat is None else f"{section_name} row {seat.row_nr} seat {seat.seat_nr}"
    return NewItem(
        item_type="ticket",
        event_id=int(event["event_id"]),
        price_id=price["price_id"],
        price_name=price["name"],
        rank_id=int(price["rank_id"]),
        hall_seat_id=None if seat is None else seat.id,
        row_nr=None if seat is None else seat.row_nr,
        seat_nr=None if seat is None else seat.seat_nr,
        description=_describe(event, tenant, price, where),
        amount_cents=int(price["amount_cents"]),
        place_key=place_key,
    )


def _pick(places: EventPlaces, line: _TicketLine, tenant: Tenant) -> list[NewItem]:
    """The places for one line, or a 409 (422 for a seat that is not in the hall)."""
    price, event = line.price, places.event
    section_names = {s["section_id"]: s["name"] for s in places.sections}
    rank_id = int(price["rank_id"])
    field = f"{line.index}.seatId"

    def ticket(place_key: str, seat: HallSeat | None) -> NewItem:
        section = "" if seat is None else section_names.get(seat.section_id, "")
        return _ticket(event, line, tenant, place_key, seat, section)

    if not places.reserved:
        if line.seat_id is not None:
            raise InvalidInput.field(field, "The event has unreserved seating: omit seatId.")
        units = places.free_units(rank_id)
        if len(units) < line.count:
            raise _not_enough(line, len(units))
        return [ticket(unit_key(rank_id, u), None) for u in units[: line.count]]

    if line.seat_id is not None:
        chosen = places.seat(line.seat_id)
        if chosen is None:
            raise InvalidInput.field(
                field, f"Seat {line.seat_id} is not a seat of the event's hall."
            )
        if chosen.rank_id != rank_id:
            raise Conflict(
                f"Seat {line.seat_id} is of rank {chosen.rank_id}, not sold at price "
                f"{price['price_id']!r} (rank {rank_id})."
            )
        if not places.seat_is_free(chosen):
            raise Conflict(f"Seat {line.seat_id} is not available.")
        picked = [chosen]
    else:
        centres = places.hall.hall.centres
        best = pick_best_in_one_row(places.free_rows(rank_id), line.count, centres)
        if best is None:
            # No row seats the party together: pick_best splits it over every free seat.
            free = places.free_seats(rank_id)
            best = pick_best(free, line.count, centres)
            if best is None:
                raise _not_enough(line, len(free))
        picked = best
    return [ticket(seat_key(s.id), s) for s in picked]


def _not_enough(line: _TicketLine, available: int) -> Conflict:
    return Conflict(
        f"Not enough places available for price {line.price['price_id']!r}: "
        f"{line.count} requested, {available} available."
    )


def hold_items(
    engine: Engine,
    *,
    tenant: Tenant,
    cart_id: str,
    lines: Sequence[CartItemInput],
    hold_minutes: int,
) -> CartView:
    """`add_items` in a write transaction of its own (POST /cart/{cartId}).

    On PostgreSQL its last statement is sent with the COMMIT (`add_items`'s `last`): the
    event's lock is released a round trip sooner. That statement fails, rather than skip a
    place, when the place was claimed meanwhile by a claimer that does not take the event's
    lock (an order made live again: orders/service.py); then nothing was written, and the
    request runs once more as it did before, in a transaction committed on its own, where
    a place lost to a race is picked again."""
    if not is_sqlite(engine):
        try:
            with write_transaction(engine) as tx:
                return add_items(
                    tx,
                    tenant=tenant,
                    cart_id=cart_id,
                    lines=lines,
                    hold_minutes=hold_minutes,
                    last=True,
                )
        except IntegrityError:
            pass  # a place was taken at the last statement: nothing committed
    with write_transaction(engine) as tx:
        return add_items(tx, tenant=tenant, cart_id=cart_id, lines=lines, hold_minutes=hold_minutes)


def add_items(
    tx: Tx,
    *,
    tenant: Tenant,
    cart_id: str,
    lines: Sequence[CartItemInput],
    hold_minutes: int,
    last: bool = False,
) -> CartView:
    """Hold the places of every line, or none of them (any refusal rolls the request back).

    `last`: the caller commits right after (hold_items). On PostgreSQL, when the final
    ticket line's insert is the request's last statement (no donation and no ticket held
    already follow it), it is sent with the COMMIT, and fails instead of skipping a place
    claimed already (IntegrityError: nothing is committed; the caller runs it again)."""
    conn = tx.conn
    if not lines:
        raise InvalidInput.field("body", "At least one item is required.")
    if len(lines) > MAX_LINES_PER_REQUEST:
        raise InvalidInput.field("body", f"At most {MAX_LINES_PER_REQUEST} items per request.")
    # The cart moves to its new expiry first, in the statement that locks its row (any
    # refusal below rolls that back), and before the events' locks below: every statement
    # after those holds up the event's other buyers until commit. The holds made below get
    # that expiry as they are inserted; the holds it had are extended at the end, under
    # the events' locks, as a claimer deletes expired holds under them (extending them
    # first could deadlock with that delete).
    expires_at = tx.now + hold_minutes * MICROS_PER_MINUTE
    price_ids = {line.price_id for line in lines}
    # PostgreSQL: the cart's move, its prices and its items in ONE round trip, run in this
    # order (the items read under the cart's lock, as before).
    found_items: Sequence[RowMapping] | None = None
    found_prices: Sequence[RowMapping] | None = None
    if conn.dialect.name == "postgresql" and len(cart_id) == CART_ID_LENGTH:
        # The prices read by the cart's move, in its statement (the items may not be: a
        # statement's snapshot is taken before the cart's row lock is waited for).
        moved_rows, found_items = run_pipelined(
            conn,
            [
                repository.extend_live_cart_with_sent(
                    tenant_id=tenant.id,
                    cart_id=cart_id,
                    now=tx.now,
                    expires_at=expires_at,
                    read=catalog.prices_by_ids_sent(tenant_id=tenant.id, price_ids=price_ids),
                ),
                repository.list_items_sent(tenant_id=tenant.id, cart_id=cart_id),
            ],
        )
        moved, found_prices = repository.moved_and_read(moved_rows)
        cart = moved if moved is not None else _live_cart(conn, tenant, cart_id, tx.now)
    else:
        cart = _extend_live_cart(conn, tenant, cart_id, tx.now, expires_at)

    prices = catalog.list_prices_by_ids(
        conn, tenant_id=tenant.id, price_ids=price_ids, found=found_prices
    )
    donations: list[NewItem] = []
    tickets: list[_TicketLine] = []
    for index, line in enumerate(lines):
        if line.price_id == DONATION:
            donations.append(_donation_item(index, line))
        else:
            tickets.append(_ticket_line(index, line, prices))

    items = found_items
    if items is None:
        items = repository.list_items(conn, tenant_id=tenant.id, cart_id=cart_id)
    held = sum(1 for item in items if item["item_type"] == "ticket")
    if held + sum(t.count for t in tickets) > MAX_TICKETS_PER_CART:
        raise InvalidInput.field(
            "body", f"A cart holds at most {MAX_TICKETS_PER_CART} tickets; it has {held}."
        )

    event_ids = {int(t.price["event_id"]) for t in tickets}
    # Serialise claiming per event: the unique key of the claims is still the guarantee; the
    # lock spares concurrent buyers of one event from picking the same best seats over and
    # over. The events are read by the same statement that locks them, with the key of the
    # cached layouts (hall seats, sections, prices, blocks: places/layouts.py).
    # Each event's expired holds are deleted by its first read below (`expire`), before any
    # of its places is claimed: in the read's own statement on PostgreSQL, where every
    # round trip made while the event is locked holds up its other buyers. There a hold
    # of one event (an on-sale's every hold) sends its first reads with the lock, to run
    # as soon as the lock is granted: one round trip fewer under it.
    found: places.FirstReads | None = None
    if conn.dialect.name == "postgresql" and len(event_ids) == 1:
        (only,) = event_ids
        then = places.first_reads(tenant_id=tenant.id, event_id=only, now=tx.now)
        events, version, rows = catalog.lock_event_then(
            conn, tenant_id=tenant.id, event_id=only, then=then
        )
        found = places.first_reads_found(rows)
    else:
        events, version = catalog.lock_events(conn, tenant_id=tenant.id, event_ids=event_ids)
    for event_id in sorted(event_ids):
        if events[event_id]["end_at"] <= tx.now:
            raise Conflict(f"Event {event_id} has ended; its tickets are no longer on sale.")
    not_expired = set(event_ids)

    def read(of: Callable[..., _Read], event_id: int) -> _Read:
        """`of` (event_counts or event_places) of a locked event, as of this request."""
        first = event_id in not_expired
        not_expired.discard(event_id)
        return of(
            conn,
            tenant_id=tenant.id,
            event=events[event_id],
            now=tx.now,
            catalog_version=version,
            expire=first and found is None,
            found=found if first else None,
        )

    added: list[RowMapping] = []
    # Named seats first, so that a best-available pick in the same request cannot take them.
    ordered = sorted(tickets, key=lambda t: (t.seat_id is None, t.index))
    # The line whose insert is the request's last statement, sent with the COMMIT.
    final = (
        ordered[-1]
        if last and ordered and not donations and not held and conn.dialect.name == "postgresql"
        else None
    )
    for ticket_line in ordered:
        commit = ticket_line is final
        event_id = int(ticket_line.price["event_id"])
        event = events[event_id]
        if ticket_line.seat_id is None and not catalog.is_reserved(event):
            # An unreserved line: admission from the kept counts (the event is locked), a
            # rank without enough places left refused without reading the claims one by
            # one; then free units probed; when holes make that fail, or the hold loses a
            # race, the places are read one by one below.
            counts = read(places.event_counts, event_id)
            left = counts.available(int(ticket_line.price["rank_id"]))
            if left < ticket_line.count:
                raise _not_enough(ticket_line, left)
            held_items = _hold_probed_units(
                conn, tenant, cart_id, counts, ticket_line, expires_at, commit=commit
            )
            if held_items is not None:
                added += held_items
                continue
        for _attempt in range(MAX_CLAIM_ATTEMPTS):
            # A reserved event's seats are read at a cost that does not grow with the seats
            # sold (kept bits): its admission is the pick itself.
            available = read(places.event_places, event_id)
            held_items = _hold(
                conn,
                tenant,
                cart_id,
                _pick(available, ticket_line, tenant),
                expires_at,
                commit=commit,
            )
            if held_items is not None:
                added += held_items
                break
        else:
            raise Conflict(
                f"The places for price {ticket_line.price['price_id']!r} were taken concurrently; "
                "please try again."
            )
    added += repository.insert_items(conn, tenant_id=tenant.id, cart_id=cart_id, items=donations)
    _extend_holds(tx, tenant, items, expires_at)
    # The cart's items as a read would list them (by id): those it had and those added.
    return CartView(cart=cart, items=sorted([*items, *added], key=lambda item: int(item["id"])))


def _hold_probed_units(
    conn: Connection,
    tenant: Tenant,
    cart_id: str,
    counts: places.EventCounts,
    line: _TicketLine,
    expires_at: int,
    *,
    commit: bool = False,
) -> list[RowMapping] | None:
    """Hold free units of an unreserved event found by probing (places.probe_free_units):
    the items added, or None (nothing added) when the probe found too few or a unit was
    taken meanwhile. `commit` as `_hold`'s."""
    rank_id = int(line.price["rank_id"])
    units = places.probe_free_units(
        conn, tenant_id=tenant.id, counts=counts, rank_id=rank_id, count=line.count
    )
    if units is None:
        return None
    items = [_ticket(counts.event, line, tenant, unit_key(rank_id, unit)) for unit in units]
    return _hold(conn, tenant, cart_id, items, expires_at, commit=commit)


def _hold(
    conn: Connection,
    tenant: Tenant,
    cart_id: str,
    items: Sequence[NewItem],
    expires_at: int,
    *,
    commit: bool = False,
) -> list[RowMapping] | None:
    """Add ticket items that hold their places, all or nothing: the items added (as
    stored), or None (and no items added) when a place was claimed by someone else in the
    meantime. `commit` (PostgreSQL): the insert is the transaction's last statement, sent
    with its COMMIT; a place claimed meanwhile fails it (IntegrityError), as nothing could
    be taken back after it."""
    if conn.dialect.name == "postgresql":
        # The items and their holds in one statement: the events' other buyers wait for
        # every round trip made under their locks.
        rows, held = repository.insert_holding_items(
            conn,
            tenant_id=tenant.id,
            cart_id=cart_id,
            items=items,
            expires_at=expires_at,
            holds_insert_from=(
                places.holds_insert_or_fail_from if commit else places.holds_insert_from
            ),
            commit=commit,
        )
        if len(held) == len(rows):
            return rows
        places.release_holds(conn, tenant_id=tenant.id, cart_item_ids=held)
        repository.delete_items(conn, tenant_id=tenant.id, item_ids=[int(r["id"]) for r in rows])
        return None
    rows = repository.insert_items(conn, tenant_id=tenant.id, cart_id=cart_id, items=items)
    holds = [
        NewHold(
            event_id=int(item.event_id or 0),
            place_key=str(item.place_key),
            rank_id=item.rank_id,
            cart_item_id=int(row["id"]),
        )
        for item, row in zip(items, rows, strict=True)
    ]
    if places.hold(conn, tenant_id=tenant.id, holds=holds, expires_at=expires_at):
        return rows
    repository.delete_items(conn, tenant_id=tenant.id, item_ids=[h.cart_item_id for h in holds])
    return None


def remove_item(
    tx: Tx, *, tenant: Tenant, cart_id: str, item_id: int, hold_minutes: int
) -> CartView:
    _live_cart(tx.conn, tenant, cart_id, tx.now)
    item = repository.get_item(tx.conn, tenant_id=tenant.id, cart_id=cart_id, item_id=item_id)
    if item is None:
        raise NotFound("Cart item")
    places.release_holds(tx.conn, tenant_id=tenant.id, cart_item_ids=[item_id])
    # Cart items are not exported (only orders are), so a removed item can simply go.
    repository.delete_items(tx.conn, tenant_id=tenant.id, item_ids=[item_id])
    return _extend(tx, tenant, cart_id, hold_minutes)


def discard_cart(tx: Tx, *, tenant: Tenant, cart_id: str) -> None:
    """Release every place and close the cart; an expired cart can be discarded too."""
    _find_cart(tx.conn, tenant, cart_id, lock=True)
    places.release_holds(
        tx.conn, tenant_id=tenant.id, cart_item_ids=_ticket_ids(tx.conn, tenant, cart_id)
    )
    repository.update_cart_closed(tx.conn, tenant_id=tenant.id, cart_id=cart_id, now=tx.now)


def _checkout_customer(
    conn: Connection, tenant: Tenant, customer_id: int | None
) -> CustomerRecord | None:
    if customer_id is None:
        return None
    customer = customers.find_customer(conn, tenant_id=tenant.id, customer_id=customer_id)
    if customer is None:
        raise InvalidInput.field("customerId", f"Customer {customer_id} does not exist.")
    if customer.row["erased_at"] is not None:
        raise InvalidInput.field("customerId", f"Customer {customer_id} has been erased.")
    return customer


@dataclass(frozen=True, slots=True)
class _Opened:
    """What a checkout reads first: the cart as its closing left it (None: missing or
    closed already), its items, and the payment method's rows when read with them."""

    cart: RowMapping | None
    items: Sequence[RowMapping] = ()
    method: Sequence[RowMapping] | None = None
    # The items' unexpired holds, locked (None: not read yet).
    holds: dict[int, places.LockedHold] | None = None


def _close_and_read(tx: Tx, tenant: Tenant, cart_id: str, payment_method_id: int) -> _Opened:
    """Close the open cart (close_open_cart: the statement that takes its row lock) and,
    on PostgreSQL, read its items, lock their unexpired holds and read the payment method
    in the same round trip (run_pipelined: run one after the other, so the items are read
    and their holds locked under the cart's lock, as statements after the close would).
    SQLite: the close, then the items (no round trips to save); the caller reads the
    payment method and locks the holds."""
    conn = tx.conn
    if len(cart_id) != CART_ID_LENGTH:
        return _Opened(cart=None)
    if conn.dialect.name != "postgresql":
        cart = repository.close_open_cart(conn, tenant_id=tenant.id, cart_id=cart_id, now=tx.now)
        if cart is None:
            return _Opened(cart=None)
        return _Opened(
            cart=cart, items=repository.list_items(conn, tenant_id=tenant.id, cart_id=cart_id)
        )
    close = repository.close_open_cart_sent(tenant_id=tenant.id, cart_id=cart_id, now=tx.now)
    item_ids = repository.item_ids_sent(tenant_id=tenant.id, cart_id=cart_id)
    holds = places.live_holds_sent(tenant_id=tenant.id, cart_item_ids=item_ids, now=tx.now)
    # The items and the lock of their holds, one statement (the lock a WITH clause).
    sent = [
        close,
        repository.list_items_with_sent(tenant_id=tenant.id, cart_id=cart_id, read=holds),
    ]
    method = catalog.payment_method_sent(tenant=tenant, payment_method_id=payment_method_id)
    closed, items_rows, *method_rows = run_pipelined(
        conn, sent if method is None else [*sent, method]
    )
    items, held = repository.items_and_read(items_rows)
    return _Opened(
        cart=closed[0] if closed else None,
        method=method_rows[0] if method_rows else None,
        items=items,
        holds=places.locked_holds(held),
    )


def check_out(
    tx: Tx,
    *,
    tenant: Tenant,
    cart_id: str,
    request: CheckoutInput,
    reserve_until: int | None = None,
    last: bool = False,
) -> PlacedOrder | None:
    """Turn the cart into one order and its holds into sales; close the cart.

    `last`: the checkout is the write transaction's last work (its route commits right
    after): on PostgreSQL the sale's statements are sent with the COMMIT (places.sell).

    With `reserve_until` the order is a reservation (`res`, timeOut `reserve_until`) whose
    places stay claimed until then: unpaid by that time, they are free again (payments/).

    None when the cart has expired: its remaining holds are deleted then, and the caller
    commits that release before answering 410 (a raised error would roll it back).
    """
    conn = tx.conn
    # Closed by the statement that locks its row (a refusal below rolls that back); an
    # expired cart stays open.
    opened = _close_and_read(tx, tenant, cart_id, request.payment_method_id)
    cart = opened.cart
    if cart is None:
        raise NotFound("Cart")
    items = opened.items
    if cart["closed_at"] is None:
        ticket_ids = [int(item["id"]) for item in items if item["item_type"] == "ticket"]
        places.release_holds(conn, tenant_id=tenant.id, cart_item_ids=ticket_ids)
        return None
    method = catalog.get_payment_method(
        conn, tenant=tenant, payment_method_id=request.payment_method_id, found=opened.method
    )
    customer = _checkout_customer(conn, tenant, request.customer_id)
    extra_donation = request.donation or 0
    if not items:
        raise InvalidInput.field("cart", "The cart is empty.")
    tickets = [i for i in items if i["item_type"] == "ticket"]
    ticket_ids = [int(t["id"]) for t in tickets]
    holds = opened.holds
    if holds is None:
        holds = places.lock_live_holds(
            conn, tenant_id=tenant.id, cart_item_ids=ticket_ids, now=tx.now
        )
    if set(holds) != set(ticket_ids):
        # Some holds were taken as expired by a claimer whose clock had passed the expiry.
        places.release_holds(conn, tenant_id=tenant.id, cart_item_ids=ticket_ids)
        return None

    donation = extra_donation + sum(i["amount_cents"] for i in items if i["item_type"] == DONATION)
    seats_total = sum(int(t["amount_cents"]) for t in tickets)
    fee = int(method["fee_cents"])
    inserted = orders.insert_sold_order(
        conn,
        tenant_id=tenant.id,
        order=NewOrder(
            order_key=new_order_key(),
            status="ord" if reserve_until is None else "res",
            time_out_at=reserve_until,
            customer_id=None if customer is None else int(customer.row["id"]),
            payment_status="paid" if request.paid else "none",
            channel=request.order_channel,
            payment_method_id=int(method["payment_method_id"]),
            handling_text=method["name"],
            amount_cents=seats_total + donation + fee,
            fee_cents=fee,
            donation_cents=donation,
        ),
        seats=[
            NewSeat(
                event_id=t["event_id"],
                rank_id=t["rank_id"],
                hall_seat_id=t["hall_seat_id"],
                row_nr=t["row_nr"],
                seat_nr=t["seat_nr"],
                price_id=t["price_id"],
                price_name=t["price_name"],
                amount_cents=t["amount_cents"],
            )
            for t in tickets
        ],
        # The sale last: it adds to the event's kept counts, whose rows every checkout of
        # the event changes (locked from then until commit).
        holds=[holds[t] for t in ticket_ids],
        now=tx.now,
        reserved_until=reserve_until,
        last=last,
    )
    # The answer from the rows as inserted (in seat id order, as a re-read lists them).
    return PlacedOrder(
        order=inserted.row,
        seats=sorted(inserted.seats, key=lambda seat: int(seat["id"])),
        customer=None if customer is None else customer.row,
        tags=[] if customer is None else customer.tags,
    )
