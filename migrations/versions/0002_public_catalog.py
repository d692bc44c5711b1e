"""public catalog: texts, images, event types, statuses, payment providers, rate limits

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 20:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _public_text_columns() -> list[sa.Column[str]]:
    return [
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("short_text", sa.String(length=255), nullable=True),
        sa.Column("image", sa.String(length=1000), nullable=True),
        sa.Column("event_types", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    # Plain ADD COLUMN keeps these tables in place: a batch copy would rewrite every row of
    # tables that other tables refer to.
    for column in _public_text_columns():
        op.add_column("productions", column)
    for column in _public_text_columns():
        op.add_column("events", column)
    op.add_column("events", sa.Column("url", sa.String(length=1000), nullable=True))
    # A CHECK in ADD COLUMN is the one way SQLite can add it without copying the table; the
    # same statement is valid PostgreSQL.
    op.execute(
        "ALTER TABLE events ADD COLUMN status VARCHAR(8) DEFAULT 'pub' NOT NULL "
        "CONSTRAINT ck_events_status CHECK (status IN ('pub', 'nosal', 'trash'))"
    )
    op.add_column("events", sa.Column("view_end_at", sa.BigInteger(), nullable=True))
    op.add_column(
        "events",
        sa.Column("max_tickets_per_order", sa.Integer(), server_default="10", nullable=False),
    )
    op.add_column(
        "payment_methods",
        sa.Column("provider", sa.String(length=32), server_default="invoice", nullable=False),
    )
    op.add_column(
        "payment_methods",
        sa.Column("online", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.create_table(
        "public_rate_limits",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address", "window_start", name=op.f("pk_public_rate_limits")),
    )
    op.create_index(
        "ix_public_rate_limits_window_start", "public_rate_limits", ["window_start"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_public_rate_limits_window_start", table_name="public_rate_limits")
    op.drop_table("public_rate_limits")
    with op.batch_alter_table("payment_methods") as batch_op:
        batch_op.drop_column("online")
        batch_op.drop_column("provider")
    with op.batch_alter_table("events") as batch_op:
        if op.get_context().dialect.name != "sqlite":
            batch_op.drop_constraint("ck_events_status", type_="check")
        for name in ("max_tickets_per_order", "view_end_at", "status", "url"):
            batch_op.drop_column(name)
        for name in ("event_types", "image", "short_text", "text"):
            batch_op.drop_column(name)
    with op.batch_alter_table("productions") as batch_op:
        for name in ("event_types", "image", "short_text", "text"):
            batch_op.drop_column(name)
