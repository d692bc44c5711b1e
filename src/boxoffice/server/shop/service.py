"""What the shop's pages show and do, through the public API's services (in-process).

The shop's cart is a public cart (`POST /v1/{client}/cart`): the same holds, the same
best-available picking, the same guarantee that a place is never held or sold twice
(carts/ and places/). The shop adds the choice of seats on a seat map.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping

from boxoffice.server.carts.service import CartExpired
from boxoffice.server.catalog import service as catalog
from boxoffice.server.catalog.service import HallSeat
from boxoffice.server.db.transactions import Tx
from boxoffice.server.errors import InvalidInput, NotFound
from boxoffice.server.payments.providers import get_provider
from boxoffice.server.payments.service import PlacedOrder, PublicOrder, payment_state
from boxoffice.server.places import service as places
from boxoffice.server.places.service import EventPlaces
from boxoffice.server.public import cart_service, order_service
from boxoffice.server.public import service as public
from boxoffice.server.public.cart_service import PublicCart
from boxoffice.server.public.order_schemas import OrderCreateInput
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.tickets.service import Ticket


@dataclass(frozen=True, slots=True)
class EventPage:
    """An event with its production, hall, ticket types and places right now."""

    event: RowMapping
    production: RowMapping
    status: str  # pub, nosal, arch (public.public_status)
    hall: RowMapping | None
    places: EventPlaces
    sections: Sequence[RowMapping]
    # The cart's own seats of this event (shown as "in your cart" on the map).
    own_seat_ids: frozenset[int]
    rank_names: Mapping[int, str]

    @property
    def on_sale(self) -> bool:
        return self.status == "pub"

    def prices_of(self, rank_id: int) -> list[RowMapping]:
        return [p for p in self.places.prices if int(p["rank_id"]) == rank_id]


def get_programme(conn: Connection, *, tenant: Tenant, now: int) -> public.Catalog:
    """The productions with their events still to start (the public `GET /events/upcoming`)."""
    return public.list_upcoming(conn, tenant=tenant, now=now)


def _event(conn: Connection, tenant: Tenant, event_id: str, now: int) -> RowMapping:
    """A listed, not withdrawn event of the client, by the id in a path; else a 404."""
    ident = public.parse_id(event_id)
    event = None if ident is None else catalog.find_event(conn, tenant_id=tenant.id, event_id=ident)
    if event is None or event["status"] == "trash" or not public.listed(event, now):
        raise NotFound("Event")
    return event


def get_event_page(
    conn: Connection, *, tenant: Tenant, event_id: str, cart: PublicCart | None, now: int
) -> EventPage:
    event = _event(conn, tenant, event_id, now)
    plan = places.get_seat_plan(conn, tenant=tenant, event_id=int(event["event_id"]), now=now)
    production = catalog.get_production(
        conn, tenant=tenant, production_id=int(event["production_id"])
    ).production
    halls = {int(h["hall_id"]): h for h in catalog.list_halls(conn, tenant=tenant)}
    items = cart.view.items if cart is not None and cart.view is not None else ()
    return EventPage(
        event=event,
        production=production,
        status=public.public_status(event, now),
        hall=halls.get(int(event["hall_id"])),
        places=plan.places,
        sections=plan.sections,
        own_seat_ids=frozenset(
            int(i["hall_seat_id"])
            for i in items
            if i["hall_seat_id"] is not None and int(i["event_id"]) == int(event["event_id"])
        ),
        rank_names=catalog.get_place_labels(
            conn, tenant=tenant, event_ids=(), hall_seat_ids=()
        ).rank_names,
    )


@dataclass(frozen=True, slots=True)
class FoundCart:
    state: str  # none (no cart, or an ordered one), expired or open
    cart: PublicCart


def find_cart(conn: Connection, *, tenant: Tenant, cart_id: str | None, now: int) -> FoundCart:
    """The buyer's cart and its state; no view unless it is open."""
    empty = PublicCart(view=None, labels=None)
    if cart_id is None:
        return FoundCart("none", empty)
    try:
        cart = cart_service.get_cart(conn, tenant=tenant, cart_id=cart_id, now=now)
    except NotFound:
        return FoundCart("none", empty)
    return FoundCart("open" if cart.view is not None else "expired", cart)


def open_cart(tx: Tx, *, tenant: Tenant, cart_id: str | None, hold_minutes: int) -> str:
    """The buyer's cart to add to: theirs while it is open; a new one when they have none
    (or it was ordered); an expired one is a 410, so that the buyer hears of it."""
    state = find_cart(tx.conn, tenant=tenant, cart_id=cart_id, now=tx.now).state
    if state == "expired":
        raise CartExpired()
    if state == "open" and cart_id is not None:
        return cart_id
    return cart_service.create_cart(tx, tenant=tenant, hold_minutes=hold_minutes)


def restart(tx: Tx, *, tenant: Tenant, hold_minutes: int) -> str:
    """A new, empty cart in place of the buyer's (an expired one's places are free already)."""
    return cart_service.create_cart(tx, tenant=tenant, hold_minutes=hold_minutes)


def _chosen_price(page: EventPage, rank_id: int, price_id: str | None) -> str:
    prices = page.prices_of(rank_id)
    if not prices:
        raise InvalidInput.field("seat", "A chosen seat is not for sale.")
    for price in prices:
        if price["price_id"] == price_id:
            return str(price["price_id"])
    if price_id is not None:
        raise InvalidInput.field(f"price-{rank_id}", f"Unknown ticket type {price_id!r}.")
    return str(prices[0]["price_id"])


def hold_seats(
    tx: Tx,
    *,
    tenant: Tenant,
    cart_id: str,
    event_id: str,
    seat_ids: Sequence[int],
    price_by_rank: Mapping[int, str],
    hold_minutes: int,
) -> PublicCart:
    """Hold these seats of a reserved event, at the chosen ticket type of each seat's rank;
    all or none. A seat taken meanwhile is a 409 (carts/), and nothing is held."""
    page = get_event_page(tx.conn, tenant=tenant, event_id=event_id, cart=None, now=tx.now)
    if not page.places.reserved:
        raise InvalidInput.field("seat", "This event has no seat map: choose a number of tickets.")
    if not seat_ids:
        raise InvalidInput.field("seat", "Choose at least one seat.")
    by_rank: dict[int, list[int]] = {}
    for seat_id in dict.fromkeys(seat_ids):
        seat: HallSeat | None = page.places.seat(seat_id)
        if seat is None:
            raise InvalidInput.field("seat", f"Seat {seat_id} is not a seat of this hall.")
        by_rank.setdefault(seat.rank_id, []).append(seat_id)
    cart = PublicCart(view=None, labels=None)
    for rank_id, seats in sorted(by_rank.items()):
        cart = cart_service.add_tickets(
            tx,
            tenant=tenant,
            cart_id=cart_id,
            event_id=int(page.event["event_id"]),
            count=len(seats),
            discount_id=_chosen_price(page, rank_id, price_by_rank.get(rank_id)),
            hold_minutes=hold_minutes,
            seat_ids=seats,
        )
    return cart


def hold_best(
    tx: Tx,
    *,
    tenant: Tenant,
    cart_id: str,
    event_id: str,
    counts: Mapping[str, int],
    hold_minutes: int,
) -> PublicCart:
    """Hold the best available places for each ticket type's count; all or none."""
    page = get_event_page(tx.conn, tenant=tenant, event_id=event_id, cart=None, now=tx.now)
    known = {str(p["price_id"]) for p in page.places.prices}
    wanted = {price_id: n for price_id, n in counts.items() if n > 0}
    if not wanted:
        raise InvalidInput.field("quantity", "Choose how many tickets you want.")
    cart = PublicCart(view=None, labels=None)
    for price_id, count in wanted.items():
        if price_id not in known:
            raise InvalidInput.field("quantity", f"Unknown ticket type {price_id!r}.")
        cart = cart_service.add_tickets(
            tx,
            tenant=tenant,
            cart_id=cart_id,
            event_id=int(page.event["event_id"]),
            count=count,
            discount_id=price_id,
            hold_minutes=hold_minutes,
        )
    return cart


def remove_ticket(
    tx: Tx, *, tenant: Tenant, cart_id: str, item_id: int, hold_minutes: int
) -> PublicCart:
    return cart_service.remove_ticket(
        tx, tenant=tenant, cart_id=cart_id, item_id=item_id, hold_minutes=hold_minutes
    )


def payment_methods(conn: Connection, *, tenant: Tenant) -> list[RowMapping]:
    """The payment methods offered online whose provider this server has."""
    return [
        method
        for method in public.list_payment_methods(conn, tenant=tenant)
        if get_provider(str(method["provider"])) is not None
    ]


def place_order(
    tx: Tx, *, tenant: Tenant, body: OrderCreateInput, base: str, reservation_minutes: int
) -> PlacedOrder | None:
    return order_service.place_order(
        tx, tenant=tenant, body=body, base=base, reservation_minutes=reservation_minutes
    )


@dataclass(frozen=True, slots=True)
class Confirmation:
    found: PublicOrder
    tickets: list[Ticket]
    state: str  # open, paid, cancelled, expired (payments.payment_state)


def get_confirmation(conn: Connection, *, tenant: Tenant, order_key: str, now: int) -> Confirmation:
    """An order placed through the public API, by its key (404 otherwise)."""
    found, tickets = order_service.get_payment_page(conn, tenant=tenant, order_key=order_key)
    return Confirmation(found=found, tickets=tickets, state=payment_state(found.payment, now))
