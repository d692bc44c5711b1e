"""Tables of customers and customer tags."""

from sqlalchemy import (
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

from boxoffice.server.db.columns import (
    cents_column,
    id_and_tenant_columns,
    instant_column,
    tenant_column,
)
from boxoffice.server.db.metadata import metadata


def customer_column(*, nullable: bool = False) -> "Column[int]":
    """`customer_id`: a row of another table that belongs to a customer (tags, orders, ...)."""
    return Column("customer_id", Integer, ForeignKey("customers.id"), nullable=nullable)


customers = Table(
    "customers",
    metadata,
    *id_and_tenant_columns(),
    Column("email", String(255)),
    # Lower-cased email: unique per client; NULL once erased.
    Column("email_key", String(255)),
    Column("first_name", String(255)),
    Column("last_name", String(255)),
    Column("salutation", String(1)),
    Column("preposition", String(255)),
    Column("address", String(255)),
    Column("house_nr", String(20)),
    Column("zip", String(10)),
    Column("city", String(255)),
    Column("country", String(255)),
    Column("phone", String(40)),
    cents_column("credit_cents"),
    instant_column("created_at"),
    instant_column("last_changed_at"),
    instant_column("erased_at", nullable=True),
    UniqueConstraint("tenant_id", "email_key"),
    Index("ix_customers_tenant_changed", "tenant_id", "last_changed_at", "id"),
)

customer_tags = Table(
    "customer_tags",
    metadata,
    tenant_column(),
    customer_column(),
    Column("name", String(64), nullable=False),
    PrimaryKeyConstraint("customer_id", "name"),
    ForeignKeyConstraint(["tenant_id", "name"], ["client_types.tenant_id", "client_types.name"]),
)
