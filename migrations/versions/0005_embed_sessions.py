"""embed_sessions: the visitor sessions of embedded shops (token hash -> cart)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 23:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "embed_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("cart_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_used_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cart_id"], ["carts.id"], name=op.f("fk_embed_sessions_cart_id_carts")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["clients.id"], name=op.f("fk_embed_sessions_tenant_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embed_sessions")),
        sa.UniqueConstraint(
            "tenant_id", "token_hash", name=op.f("uq_embed_sessions_tenant_id_token_hash")
        ),
    )
    with op.batch_alter_table("embed_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_embed_sessions_last_used", ["tenant_id", "last_used_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("embed_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_embed_sessions_last_used")
    op.drop_table("embed_sessions")
