"""payments of public orders (order key hashes, reservation expiry) and ticket secrets

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 20:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("order_key_hash", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("redirect_url", sa.String(length=2000), nullable=False),
        sa.Column("provider_reference", sa.String(length=255), nullable=True),
        sa.Column("optin", sa.Boolean(), nullable=False),
        sa.Column("mailinglist", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("settled_at", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "state IN ('open', 'paid', 'cancelled', 'expired')",
            name=op.f("ck_order_payments_state"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_payments_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["clients.id"], name=op.f("fk_order_payments_tenant_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_payments")),
        sa.UniqueConstraint("order_id", name=op.f("uq_order_payments_order_id")),
        sa.UniqueConstraint("order_key_hash", name=op.f("uq_order_payments_order_key_hash")),
    )
    with op.batch_alter_table("order_payments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_order_payments_open", ["tenant_id", "state", "expires_at"], unique=False
        )
    op.create_table(
        "ticket_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("order_seat_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_seat_id"],
            ["order_seats.id"],
            name=op.f("fk_ticket_secrets_order_seat_id_order_seats"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["clients.id"], name=op.f("fk_ticket_secrets_tenant_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_secrets")),
        sa.UniqueConstraint("order_seat_id", name=op.f("uq_ticket_secrets_order_seat_id")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_ticket_secrets_secret_hash")),
    )


def downgrade() -> None:
    op.drop_table("ticket_secrets")
    with op.batch_alter_table("order_payments", schema=None) as batch_op:
        batch_op.drop_index("ix_order_payments_open")
    op.drop_table("order_payments")
