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

from boxoffice.server.customers.inputs import EmailChange, max_length
from boxoffice.server.customers.resources import USER
from boxoffice.server.db.columns import (
    cents_column,
    id_and_tenant_columns,
    instant_column,
    tenant_column,
)
from boxoffice.server.db.metadata import metadata
from boxoffice.server.fields import Kind


def customer_column(*, nullable: bool = False) -> "Column[int]":
    """`customer_id`: a row of another table that belongs to a customer (tags, orders, ...)."""
    return Column("customer_id", Integer, ForeignKey("customers.id"), nullable=nullable)


def _text_columns() -> "list[Column[str]]":
    """A column per text field of the customer's field table (`resources.USER`), in field
    order, each as long as the field's input type allows (`inputs.max_length`): a field is
    added to the table by its line there (and a migration)."""
    return [
        Column(f.column, String(max_length(f.writable)))
        for f in USER.fields
        if f.kind is Kind.TEXT and f.column is not None
    ]


_email, *_personal = _text_columns()

customers = Table(
    "customers",
    metadata,
    *id_and_tenant_columns(),
    _email,
    # Lower-cased email: unique per client; NULL once erased.
    Column("email_key", String(max_length(EmailChange))),
    *_personal,
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
