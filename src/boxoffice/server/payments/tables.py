"""The payment of each order placed through the public API, and its reservation."""

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from boxoffice.server.db.columns import id_and_tenant_columns, instant_column, one_of
from boxoffice.server.db.metadata import metadata

PAYMENT_STATES = ("open", "paid", "cancelled", "expired")

order_payments = Table(
    "order_payments",
    metadata,
    *id_and_tenant_columns(),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False, unique=True),
    # SHA-256 (hex) of the order key: the public API finds an order by the hash of the key
    # it is shown, so no lookup ever compares the secret itself.
    Column("order_key_hash", String(64), nullable=False, unique=True),
    Column("provider", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    # Where the buyer goes after paying or cancelling, with ?return=<order key> added.
    Column("redirect_url", String(2000), nullable=False),
    # The provider's own id of the payment (a real provider's payment id); null for `test`.
    Column("provider_reference", String(255), nullable=True),
    # Consent given with the order (avg_optin, avg_mailinglist), kept with it as given.
    Column("optin", Boolean, nullable=False),
    Column("mailinglist", Boolean, nullable=False),
    # Until when an open payment holds its places; null when nothing expires (invoice).
    instant_column("expires_at", nullable=True),
    instant_column("created_at"),
    instant_column("settled_at", nullable=True),
    one_of("state", PAYMENT_STATES),
    Index("ix_order_payments_open", "tenant_id", "state", "expires_at"),
)
