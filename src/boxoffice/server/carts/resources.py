"""CartResource, its summary, and the order a checkout places: their one JSON rendering."""

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from boxoffice.server.carts.service import CartView, PlacedOrder
from boxoffice.server.customers.resources import user_resource
from boxoffice.server.orders.resources import order_export_resource
from boxoffice.server.values.rendering import render_instant, render_money


def cart_item_resource(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "itemType": row["item_type"],
        "itemId": row["id"],
        "eventId": row["event_id"],
        "priceId": row["price_id"],
        "priceName": row["price_name"],
        "rankId": row["rank_id"],
        "rowNr": row["row_nr"],
        "seatNr": row["seat_nr"],
        "description": row["description"],
        "amount": render_money(row["amount_cents"]),
    }


def cart_summary_resource(view: CartView, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "cartId": view.cart["id"],
        "timeOut": render_instant(view.cart["expires_at"], tz),
        "numberOfItems": len(view.items),
        "amount": render_money(sum(int(i["amount_cents"]) for i in view.items)),
    }


def cart_resource(view: CartView, tz: ZoneInfo) -> dict[str, Any]:
    body = cart_summary_resource(view, tz)
    body["cartItems"] = [cart_item_resource(i) for i in view.items]
    return body


def placed_order_resource(placed: PlacedOrder, tz: ZoneInfo) -> dict[str, Any]:
    """The OrderExportResource of a checkout, with its customer inline (or null)."""
    customer = placed.customer
    user = None if customer is None else user_resource(customer, placed.tags, tz)
    return order_export_resource(placed.order, placed.seats, user, tz)
