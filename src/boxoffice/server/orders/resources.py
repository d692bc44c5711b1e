"""OrderResource and OrderExportResource: the one rendering of an order and its seats."""

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from boxoffice.server.values import render_instant, render_money, render_optional_instant


def order_resource(row: Mapping[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """The list/get shape (`GET /order`), keys in contract order."""
    return {
        "orderId": row["id"],
        "orderKey": row["order_key"],
        "customerId": row["customer_id"],
        "orderStatus": row["status"],
        "orderPaymentStatus": row["payment_status"],
        "orderDate": render_instant(row["order_date_at"], tz),
        "timeOut": render_optional_instant(row["time_out_at"], tz),
        "amount": render_money(row["amount_cents"]),
        "orderDonation": render_money(row["donation_cents"]),
        "lastChanged": render_instant(row["last_changed_at"], tz),
        "handlingTextPayment": row["handling_text"],
        "discountName": row["discount_name"],
    }


def seat_resource(row: Mapping[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """One `order_seats` row; a removed seat also carries `deletedAt`."""
    seat: dict[str, Any] = {
        "seatId": row["id"],
        "eventId": row["event_id"],
        "rankId": row["rank_id"],
        "rowNr": row["row_nr"],
        "seatNr": row["seat_nr"],
        "amount": render_money(row["amount_cents"]),
        "priceId": row["price_id"],
        "priceName": row["price_name"],
    }
    if row["deleted_at"] is not None:
        seat["deletedAt"] = render_instant(row["deleted_at"], tz)
    return seat


def order_export_resource(
    row: Mapping[str, Any],
    seats: Sequence[Mapping[str, Any]],
    user: dict[str, Any] | None,
    tz: ZoneInfo,
) -> dict[str, Any]:
    """The export shape: `seats` (current), `deletedSeats` (removed) and the inline `user`.

    `seats` holds all of the order's `order_seats` rows in id order; they are split here.
    """
    current = [seat_resource(s, tz) for s in seats if s["deleted_at"] is None]
    deleted = [seat_resource(s, tz) for s in seats if s["deleted_at"] is not None]
    return {
        "orderId": row["id"],
        "orderKey": row["order_key"],
        "customerId": row["customer_id"],
        "orderStatus": row["status"],
        "orderPaymentStatus": row["payment_status"],
        "orderChannel": row["channel"],
        "orderDate": render_instant(row["order_date_at"], tz),
        "timeOut": render_optional_instant(row["time_out_at"], tz),
        "lastChanged": render_instant(row["last_changed_at"], tz),
        "amount": render_money(row["amount_cents"]),
        "fee": render_money(row["fee_cents"]),
        "donation": render_money(row["donation_cents"]),
        "handlingTextPayment": row["handling_text"],
        "discountName": row["discount_name"],
        "seats": current,
        "deletedSeats": deleted,
        "user": user,
    }
