"""place claims: ix_place_claims_expiry only of the claims that expire

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 17:30:00.000000

The index of expiring claims (holds, unpaid reservations) by expiry leaves out the sales
(no expiry): it stays the size of the holds, and a query that does not ask for an expiry
cannot use it, so that PostgreSQL's planner no longer mistakes it for the unique key of
(tenant_id, event_id, place_key) while place_claims has no statistics (places/tables.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ["tenant_id", "event_id", "expires_at"]


def upgrade() -> None:
    # Plain DROP and CREATE INDEX keep place_claims in place (a batch copy would rewrite it).
    op.drop_index("ix_place_claims_expiry", table_name="place_claims")
    only_expiring = sa.text("expires_at IS NOT NULL")
    op.create_index(
        "ix_place_claims_expiry",
        "place_claims",
        _COLUMNS,
        postgresql_where=only_expiring,
        sqlite_where=only_expiring,
    )


def downgrade() -> None:
    op.drop_index("ix_place_claims_expiry", table_name="place_claims")
    op.create_index("ix_place_claims_expiry", "place_claims", _COLUMNS)
