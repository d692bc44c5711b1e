"""The public cart's one JSON rendering: one object per ticket, then the total price."""

from typing import Any
from zoneinfo import ZoneInfo

from boxoffice.server.public.cart_service import PublicCart
from boxoffice.server.values.instants import micros_to_instant
from boxoffice.server.values.money import money_text

EMPTY_CART: list[dict[str, Any]] = [{"cart": 0}]


def public_cart_resource(cart: PublicCart, tz: ZoneInfo) -> list[dict[str, Any]]:
    """`[ticket, ..., {"totalprice": "49.00"}]`, or `[{"cart": 0}]` for an empty cart.

    `totalprice` is the cart's whole amount (tickets, and a donation added through the
    Peppered API); the transaction fee of the payment method comes at the order.
    """
    view, labels = cart.view, cart.labels
    if view is None or labels is None or not view.items:
        return EMPTY_CART
    body: list[dict[str, Any]] = []
    for item in view.items:
        if item["item_type"] != "ticket":
            continue
        event_id = int(item["event_id"])
        event = labels.events.get(event_id)
        start = None if event is None else micros_to_instant(event["start_at"], tz)
        body.append(
            {
                "seat_id": str(item["id"]),
                "seat_row_nr": item["row_nr"],
                "seat_nr": item["seat_nr"],
                "pmp_name": labels.section_of(item["hall_seat_id"]),
                "event_id": event_id,
                "event_name": None if event is None else event["name"],
                "location_name": labels.hall_of(event_id),
                "event_date": None if start is None else start.strftime("%d-%m-%Y"),
                "event_time": None if start is None else start.strftime("%H:%M"),
                "numberoftickets": 1,
                "seat_price": money_text(int(item["amount_cents"])),
                "category_name": labels.rank_names.get(int(item["rank_id"])),
                "discount_id": item["price_id"],
                "discount_name": item["price_name"],
            }
        )
    body.append({"totalprice": money_text(sum(int(i["amount_cents"]) for i in view.items))})
    return body
