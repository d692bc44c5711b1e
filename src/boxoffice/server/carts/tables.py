"""Tables of carts and their items."""

from sqlalchemy import Column, ForeignKey, Integer, String, Table

from boxoffice.server.db.columns import (
    cents_column,
    id_and_tenant_columns,
    instant_column,
    int_column,
    tenant_column,
)
from boxoffice.server.db.metadata import metadata

carts = Table(
    "carts",
    metadata,
    # The public 32-character random cartId.
    Column("id", String(32), primary_key=True),
    tenant_column(),
    instant_column("created_at"),
    instant_column("expires_at"),
    # Set at checkout or when emptied: the cart is gone for the API but kept for audit.
    instant_column("closed_at", nullable=True),
)

cart_items = Table(
    "cart_items",
    metadata,
    *id_and_tenant_columns(),
    Column("cart_id", String(32), ForeignKey("carts.id"), nullable=False, index=True),
    Column("item_type", String(16), nullable=False),
    Column("event_id", Integer),
    Column("price_id", String(32), nullable=False),
    Column("price_name", String(255)),
    int_column("rank_id"),
    Column("hall_seat_id", Integer),
    Column("row_nr", Integer),
    Column("seat_nr", Integer),
    Column("description", String(500)),
    cents_column("amount_cents"),
)
