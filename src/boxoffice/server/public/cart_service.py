"""The public cart: the Peppered cart (carts/) seen in the public API's fields.

A public line `{event_id, numberoftickets, discount_id}` becomes one Peppered cart line
(the price and its rank), held the same way: best available places, all or none.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, RowMapping

from boxoffice.server.carts import service as carts
from boxoffice.server.carts.schemas import CartItemInput
from boxoffice.server.carts.service import CartExpired, CartView
from boxoffice.server.catalog import service as catalog
from boxoffice.server.catalog.service import PlaceLabels
from boxoffice.server.db.transactions import Tx
from boxoffice.server.errors import Conflict, InvalidInput, NotFound
from boxoffice.server.payments import service as payments
from boxoffice.server.public.service import public_status
from boxoffice.server.tenancy.service import Tenant


@dataclass(frozen=True, slots=True)
class PublicCart:
    """A cart's items and the names its public rendering shows; no items when expired."""

    view: CartView | None
    labels: PlaceLabels | None


def _labels(conn: Connection, tenant: Tenant, items: Sequence[RowMapping]) -> PlaceLabels:
    tickets = [i for i in items if i["item_type"] == "ticket"]
    return catalog.get_place_labels(
        conn,
        tenant=tenant,
        event_ids={int(i["event_id"]) for i in tickets},
        hall_seat_ids={int(i["hall_seat_id"]) for i in tickets if i["hall_seat_id"] is not None},
    )


def _price(
    conn: Connection, tenant: Tenant, event: RowMapping, discount_id: str | None
) -> RowMapping:
    """The price asked for, or the event's only one when none is named."""
    event_id = int(event["event_id"])
    if discount_id is not None:
        price = catalog.get_price(
            conn, tenant=tenant, price_id=discount_id, field_name="discount_id"
        )
        if int(price["event_id"]) != event_id:
            raise InvalidInput.field(
                "discount_id", f"Ticket type {discount_id!r} is not one of event {event_id}."
            )
        return price
    prices = catalog.list_event_prices(conn, tenant=tenant, event_id=event_id)
    if len(prices) != 1:
        raise InvalidInput.field(
            "discount_id",
            f"The discount_id field is required: event {event_id} has {len(prices)} ticket types.",
        )
    return prices[0]


def create_cart(tx: Tx, *, tenant: Tenant, hold_minutes: int) -> str:
    view = carts.create_cart(tx, tenant=tenant, hold_minutes=hold_minutes)
    return str(view.cart["id"])


def open_cart(engine: Engine, *, tenant: Tenant, hold_minutes: int) -> str:
    """A new cart in a request of its own (carts.open_cart); its id."""
    return str(carts.open_cart(engine, tenant=tenant, hold_minutes=hold_minutes).cart["id"])


def add_tickets(
    tx: Tx,
    *,
    tenant: Tenant,
    cart_id: str,
    event_id: int,
    count: int,
    discount_id: str | None,
    hold_minutes: int,
    seat_ids: Sequence[int] = (),
) -> PublicCart:
    """Hold `count` best-available places of the event at the price, or none (409); with
    `seat_ids` (as many as `count`), those seats of a reserved event instead."""
    payments.release_expired(tx, tenant=tenant)
    current = carts.get_cart(tx.conn, tenant=tenant, cart_id=cart_id, now=tx.now)
    try:
        event = catalog.get_event(tx.conn, tenant=tenant, event_id=event_id)
    except NotFound:
        raise InvalidInput.field("event_id", f"Event {event_id} does not exist.") from None
    status = public_status(event, tx.now)
    if status != "pub":
        raise Conflict(f"Event {event_id} is not on sale (status {status}).")
    price = _price(tx.conn, tenant, event, discount_id)
    in_cart = sum(
        1 for i in current.items if i["item_type"] == "ticket" and i["event_id"] == event_id
    )
    most = int(event["max_tickets_per_order"])
    if in_cart + count > most:
        raise InvalidInput.field(
            "numberoftickets",
            f"One order takes at most {most} tickets of event {event_id}; "
            f"the cart has {in_cart} already.",
        )
    line = {"priceId": price["price_id"], "rankId": int(price["rank_id"]), "eventId": event_id}
    lines = (
        [CartItemInput.model_validate(line | {"seatId": seat_id}) for seat_id in seat_ids]
        if seat_ids
        else [CartItemInput.model_validate(line | {"numberOfTickets": count})]
    )
    view = carts.add_items(
        tx, tenant=tenant, cart_id=cart_id, lines=lines, hold_minutes=hold_minutes
    )
    return PublicCart(view=view, labels=_labels(tx.conn, tenant, view.items))


def get_cart(conn: Connection, *, tenant: Tenant, cart_id: str, now: int) -> PublicCart:
    """The cart; an expired one reads as empty (its places are no longer held)."""
    try:
        view = carts.get_cart(conn, tenant=tenant, cart_id=cart_id, now=now)
    except CartExpired:
        return PublicCart(view=None, labels=None)
    return PublicCart(view=view, labels=_labels(conn, tenant, view.items))


def remove_ticket(
    tx: Tx, *, tenant: Tenant, cart_id: str, item_id: int, hold_minutes: int
) -> PublicCart:
    view = carts.remove_item(
        tx, tenant=tenant, cart_id=cart_id, item_id=item_id, hold_minutes=hold_minutes
    )
    return PublicCart(view=view, labels=_labels(tx.conn, tenant, view.items))
