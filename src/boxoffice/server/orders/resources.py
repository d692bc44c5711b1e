"""OrderResource and OrderExportResource: the one rendering of an order and its seats."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from boxoffice.server.values.rendering import render_instant, render_money, render_optional_instant


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


def order_export_resource(
    row: Mapping[str, Any],
    seats: Sequence[Mapping[str, Any]],
    user: dict[str, Any] | None,
    tz: ZoneInfo,
) -> dict[str, Any]:
    """The export shape: `seats` (current), `deletedSeats` (removed) and the inline `user`.

    `seats` holds all of the order's `order_seats` rows in id order; they are split here.
    """
    return order_export_resource_of_rows(
        [row[name] for name in ORDER_ROW_COLUMNS],
        [[seat[name] for name in SEAT_ROW_COLUMNS] for seat in seats],
        user,
        tz,
    )


# The columns of an order row given to order_export_resource_of_rows, in this order.
ORDER_ROW_COLUMNS = (
    "id",
    "order_key",
    "customer_id",
    "status",
    "payment_status",
    "channel",
    "order_date_at",
    "time_out_at",
    "last_changed_at",
    "amount_cents",
    "fee_cents",
    "donation_cents",
    "handling_text",
    "discount_name",
)

# The columns of a seat row given to order_export_resource_of_rows, in this order. The
# export reads its million seats as plain tuples: a dict per seat cost more than rendering it.
SEAT_ROW_COLUMNS = (
    "order_id",
    "id",
    "event_id",
    "rank_id",
    "row_nr",
    "seat_nr",
    "amount_cents",
    "price_id",
    "price_name",
    "deleted_at",
)


def seat_resources_of_rows(
    rows: Iterable[Sequence[Any]], tz: ZoneInfo
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The SeatResource of each row (SEAT_ROW_COLUMNS order), split into current and
    removed; a removed seat also carries `deletedAt`."""
    current: list[dict[str, Any]] = []
    deleted: list[dict[str, Any]] = []
    for _order, seat_id, event, rank, row_nr, seat_nr, cents, price, name, removed in rows:
        seat = {
            "seatId": seat_id,
            "eventId": event,
            "rankId": rank,
            "rowNr": row_nr,
            "seatNr": seat_nr,
            "amount": render_money(cents),
            "priceId": price,
            "priceName": name,
        }
        if removed is None:
            current.append(seat)
        else:
            seat["deletedAt"] = render_instant(removed, tz)
            deleted.append(seat)
    return current, deleted


def order_export_resource_of_rows(
    row: Sequence[Any],
    seat_rows: Iterable[Sequence[Any]],
    user: Any,
    tz: ZoneInfo,
) -> dict[str, Any]:
    """order_export_resource, with the order as a tuple in ORDER_ROW_COLUMNS order and its
    seats as tuples in SEAT_ROW_COLUMNS order. `user` is the rendered UserResource (a dict,
    or the same already serialized as an orjson.Fragment) or None."""
    current, deleted = seat_resources_of_rows(seat_rows, tz)
    return _order_export(row, current, deleted, user, tz)


def _order_export(
    row: Sequence[Any],
    current: list[dict[str, Any]],
    deleted: list[dict[str, Any]],
    user: Any,
    tz: ZoneInfo,
) -> dict[str, Any]:
    (
        order_id,
        order_key,
        customer_id,
        status,
        payment_status,
        channel,
        order_date_at,
        time_out_at,
        last_changed_at,
        amount_cents,
        fee_cents,
        donation_cents,
        handling_text,
        discount_name,
    ) = row
    return {
        "orderId": order_id,
        "orderKey": order_key,
        "customerId": customer_id,
        "orderStatus": status,
        "orderPaymentStatus": payment_status,
        "orderChannel": channel,
        "orderDate": render_instant(order_date_at, tz),
        "timeOut": None if time_out_at is None else render_instant(time_out_at, tz),
        "lastChanged": render_instant(last_changed_at, tz),
        "amount": render_money(amount_cents),
        "fee": render_money(fee_cents),
        "donation": render_money(donation_cents),
        "handlingTextPayment": handling_text,
        "discountName": discount_name,
        "seats": current,
        "deletedSeats": deleted,
        "user": user,
    }
