"""Tables of orders and their seats (current and removed)."""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from boxoffice.server.customers.tables import customer_column
from boxoffice.server.db.columns import (
    cents_column,
    id_and_tenant_columns,
    instant_column,
    int_column,
    one_of,
)
from boxoffice.server.db.metadata import metadata

ORDER_STATUSES = ("ord", "cancel", "reemit", "reissue", "res", "pros", "trash")
PAYMENT_STATUSES = ("none", "paid", "partial", "refund")
ORDER_CHANNELS = ("www", "sp")

orders = Table(
    "orders",
    metadata,
    *id_and_tenant_columns(),
    Column("order_key", String(23), nullable=False, unique=True),
    customer_column(nullable=True),
    Column("status", String(8), nullable=False),
    Column("payment_status", String(8), nullable=False),
    Column("channel", String(4), nullable=False),
    instant_column("order_date_at"),
    instant_column("time_out_at", nullable=True),
    int_column("payment_method_id", nullable=True),
    Column("handling_text", String(255), nullable=True),
    Column("discount_name", String(255), nullable=True),
    # amount = current seats + donation + fee, kept in step by the order service.
    cents_column("amount_cents"),
    cents_column("fee_cents"),
    cents_column("donation_cents"),
    instant_column("created_at"),
    instant_column("last_changed_at"),
    one_of("status", ORDER_STATUSES),
    one_of("payment_status", PAYMENT_STATUSES),
    one_of("channel", ORDER_CHANNELS),
    Index("ix_orders_tenant_changed", "tenant_id", "last_changed_at", "id"),
    Index("ix_orders_customer", "customer_id"),
)

# One ticket line. Its id is the public `seatId` of orders; `deleted_at` set means it was
# removed from the order and now shows under `deletedSeats`.
order_seats = Table(
    "order_seats",
    metadata,
    *id_and_tenant_columns(),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    int_column("event_id"),
    int_column("rank_id"),
    int_column("hall_seat_id", nullable=True),
    int_column("row_nr", nullable=True),
    int_column("seat_nr", nullable=True),
    Column("price_id", String(32), nullable=False),
    Column("price_name", String(255), nullable=False),
    cents_column("amount_cents"),
    instant_column("deleted_at", nullable=True),
    Index("ix_order_seats_order", "order_id", "id"),
)

# Orders in these states hold their places; `cancel` and `trash` release them.
LIVE_STATUSES = ("ord", "reemit", "reissue", "res", "pros")
