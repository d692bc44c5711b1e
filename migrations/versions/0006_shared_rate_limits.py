"""rate limits shared by every worker: a limit per API key, leased windows for both budgets

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 23:40:00.000000

The per-address counts of the public API (public_rate_limits, one row per request window)
are replaced by rate_limit_windows, which both the per-key and the per-address budgets lease
from. Counts are protection, not data: the old table's rows are not carried over (a window
lasts a minute).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_windows",
        sa.Column("budget", sa.String(length=16), nullable=False),
        sa.Column("identity", sa.String(length=64), nullable=False),
        sa.Column("window_start_at", sa.BigInteger(), nullable=False),
        sa.Column("window_end_at", sa.BigInteger(), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False),
        sa.Column("last_grant", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "budget", "identity", "window_start_at", name=op.f("pk_rate_limit_windows")
        ),
    )
    op.create_index("ix_rate_limit_windows_window_end_at", "rate_limit_windows", ["window_end_at"])
    op.drop_index("ix_public_rate_limits_window_start", table_name="public_rate_limits")
    op.drop_table("public_rate_limits")
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.add_column(sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_column("rate_limit_per_minute")
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
    op.drop_index("ix_rate_limit_windows_window_end_at", table_name="rate_limit_windows")
    op.drop_table("rate_limit_windows")
