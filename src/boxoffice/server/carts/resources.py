"""CartResource, its summary, and the order a checkout places: their one JSON rendering.

Rows are `RowMapping`s of `select(table)`, keyed by column name.
"""

from typing import Any, Literal
from zoneinfo import ZoneInfo

import orjson

from boxoffice.server.carts.service import CartView, PlacedOrder
from boxoffice.server.customers.resources import user_resource
from boxoffice.server.fields import (
    Money,
    Resource,
    given,
    instant,
    integer,
    money,
    nested,
    number,
    text,
)
from boxoffice.server.orders.resources import order_export_resource
from boxoffice.server.values.rendering import render_money

# A cart item (a `cart_items` row), keys in contract order. No descriptions in the OpenAPI
# document, as before the tables (the models had none).
CART_ITEM = Resource(
    "CartItemResource",
    description="",
    fields=(
        text("itemType", "item_type", Literal["ticket", "donation"]),
        integer("itemId", "id"),
        number("eventId", "event_id"),
        text("priceId", "price_id", str),
        text("priceName", "price_name"),
        integer("rankId", "rank_id"),
        number("rowNr", "row_nr"),
        number("seatNr", "seat_nr"),
        text("description", "description"),
        money("amount", "amount_cents"),
    ),
)
# A cart (a `carts` row) and what its items add up to; the cart is the summary and its items.
_SUMMARY_FIELDS = (
    text("cartId", "id", str),
    instant("timeOut", "expires_at"),
    given("numberOfItems", int),
    given("amount", Money),
)
CART_SUMMARY = Resource("CartSummaryResource", "", _SUMMARY_FIELDS)
CART = Resource("CartResource", "", (*_SUMMARY_FIELDS, nested("cartItems", CART_ITEM, many=True)))

CartItemResource = CART_ITEM.model
CartSummaryResource = CART_SUMMARY.model
CartResource = CART.model

cart_item_resource = CART_ITEM.mapping_renderer()
_render_summary = CART_SUMMARY.mapping_renderer()
_render_cart = CART.mapping_renderer()


def _totals(view: CartView) -> tuple[int, orjson.Fragment]:
    """numberOfItems and amount: the count of the cart's items and their summed amount."""
    return len(view.items), render_money(sum(int(i["amount_cents"]) for i in view.items))


def cart_summary_resource(view: CartView, tz: ZoneInfo) -> dict[str, Any]:
    return _render_summary(view.cart, tz, *_totals(view))


def cart_resource(view: CartView, tz: ZoneInfo) -> dict[str, Any]:
    items = [cart_item_resource(i) for i in view.items]
    return _render_cart(view.cart, tz, *_totals(view), items)


def placed_order_resource(placed: PlacedOrder, tz: ZoneInfo) -> dict[str, Any]:
    """The OrderExportResource of a checkout, with its customer inline (or null)."""
    customer = placed.customer
    user = None if customer is None else user_resource(customer, placed.tags, tz)
    return order_export_resource(placed.order, placed.seats, user, tz)
