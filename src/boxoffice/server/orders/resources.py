"""OrderResource and OrderExportResource: the one rendering of an order and its seats."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal
from zoneinfo import ZoneInfo

from boxoffice.server.customers.resources import USER
from boxoffice.server.fields import (
    Resource,
    instant,
    integer,
    money,
    nested,
    number,
    optional_instant,
    text,
)
from boxoffice.server.orders.schemas import OrderStatus, PaymentStatus

# The keys both shapes of an order start with.
_ORDER_HEAD = (
    integer("orderId", "id"),
    text("orderKey", "order_key", str),
    number("customerId", "customer_id"),
    text("orderStatus", "status", OrderStatus),
    text("orderPaymentStatus", "payment_status", PaymentStatus),
)

# An order as listed by GET /order, keys in contract order.
ORDER = Resource(
    "OrderResource",
    "An order as listed by GET /order (OrderResource).",
    (
        *_ORDER_HEAD,
        instant("orderDate", "order_date_at"),
        optional_instant("timeOut", "time_out_at"),
        money("amount", "amount_cents"),
        money("orderDonation", "donation_cents"),
        instant("lastChanged", "last_changed_at"),
        text("handlingTextPayment", "handling_text"),
        text("discountName", "discount_name"),
    ),
)

# One ticket line of an order; a removed seat also carries `deletedAt`.
SEAT = Resource(
    "SeatResource",
    "One ticket line of an order; `deletedAt` only on removed seats.",
    (
        integer("seatId", "id"),
        integer("eventId", "event_id"),
        integer("rankId", "rank_id"),
        number("rowNr", "row_nr"),
        number("seatNr", "seat_nr"),
        money("amount", "amount_cents"),
        text("priceId", "price_id", str),
        text("priceName", "price_name", str),
        instant("deletedAt", "deleted_at", only_if_set=True, description="Only in deletedSeats."),
    ),
)

# An order with its seats (current and removed) and its customer, as exported.
ORDER_EXPORT = Resource(
    "OrderExportResource",
    "An order with its seats and customer (OrderExportResource).",
    (
        *_ORDER_HEAD,
        text("orderChannel", "channel", Literal["www", "sp"]),
        instant("orderDate", "order_date_at"),
        optional_instant("timeOut", "time_out_at"),
        instant("lastChanged", "last_changed_at"),
        money("amount", "amount_cents"),
        money("fee", "fee_cents"),
        money("donation", "donation_cents"),
        text("handlingTextPayment", "handling_text"),
        text("discountName", "discount_name"),
        nested("seats", SEAT, many=True),
        nested("deletedSeats", SEAT, many=True),
        nested("user", USER, nullable=True),
    ),
)
OrderResource = ORDER.model
OrderResources = ORDER.list_model
SeatResource = SEAT.model
OrderExportResource = ORDER_EXPORT.model
OrderExportResources = ORDER_EXPORT.list_model

# The columns of an order row given to order_export_resource_of_rows, in this order (they
# also hold every column of ORDER).
ORDER_ROW_COLUMNS = ORDER_EXPORT.columns
# The columns of a seat row given to order_export_resource_of_rows, in this order: its
# order's id, then the seat's own. The export reads its million seats as plain tuples: a
# dict per seat cost more than rendering it.
SEAT_ROW_COLUMNS = ("order_id", *SEAT.columns)
_SEAT_DELETED_AT = SEAT_ROW_COLUMNS.index("deleted_at")

_render_order = ORDER.renderer(ORDER_ROW_COLUMNS)
_render_seat = SEAT.renderer(SEAT_ROW_COLUMNS)
_render_order_export = ORDER_EXPORT.renderer()


def order_resource(row: Mapping[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """The list/get shape (`GET /order`), keys in contract order."""
    return _render_order([row[name] for name in ORDER_ROW_COLUMNS], tz)


def order_resource_of_row(row: Sequence[Any], tz: ZoneInfo) -> dict[str, Any]:
    """order_resource of a row given as a tuple in ORDER_ROW_COLUMNS order."""
    return _render_order(row, tz)


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


def seat_resources_of_rows(
    rows: Iterable[Sequence[Any]], tz: ZoneInfo
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The SeatResource of each row (SEAT_ROW_COLUMNS order), split into current and
    removed; a removed seat also carries `deletedAt`."""
    current: list[dict[str, Any]] = []
    deleted: list[dict[str, Any]] = []
    render, removed = _render_seat, _SEAT_DELETED_AT
    for row in rows:
        (current if row[removed] is None else deleted).append(render(row, tz))
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
    return _render_order_export(row, tz, current, deleted, user)
