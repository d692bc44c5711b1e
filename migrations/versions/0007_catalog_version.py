"""catalog version: a counter per client that every catalog load which changes anything moves

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 02:30:00.000000

Read in the same statement as an event, it keys the servers' cached layouts of halls and
events (docs/development.md, "Places"): a load moves it, so the next request reads the new
catalog. Existing clients start at 0, as a new cache does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clients") as batch_op:
        batch_op.add_column(
            sa.Column("catalog_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch_op:
        batch_op.drop_column("catalog_version")
