"""place counts: sales per event and rank, kept with the claims; an index on claim expiry

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "place_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("rank_id", sa.Integer(), nullable=False),
        sa.Column("sold", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["clients.id"], name=op.f("fk_place_counts_tenant_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place_counts")),
        sa.UniqueConstraint(
            "tenant_id",
            "event_id",
            "rank_id",
            name=op.f("uq_place_counts_tenant_id_event_id_rank_id"),
        ),
    )
    # Plain CREATE INDEX keeps place_claims in place (a batch copy would rewrite it).
    op.create_index(
        "ix_place_claims_expiry", "place_claims", ["tenant_id", "event_id", "expires_at"]
    )
    # The backfill: one pass over the claims, in the migration's transaction. Claims that
    # expire are not counted (they are counted live), so only sales without expiry are.
    op.execute(
        "INSERT INTO place_counts (tenant_id, event_id, rank_id, sold) "
        "SELECT tenant_id, event_id, rank_id, COUNT(*) FROM place_claims "
        "WHERE expires_at IS NULL GROUP BY tenant_id, event_id, rank_id"
    )


def downgrade() -> None:
    op.drop_index("ix_place_claims_expiry", table_name="place_claims")
    op.drop_table("place_counts")
