"""place sold seats: a reserved event's sold seats as kept bits, a row per 63 seats

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 08:00:00.000000

Changed in the transaction that changes the claims, as place_counts is; the seat plan and
seat picking read it instead of the sales one by one (docs/development.md, "Places").
"""

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As places/repository.py keeps them (its SEATS_PER_BLOCK and seat keys "s<id>"), written
# out here: a migration is what the schema was when it was written.
_SEATS_PER_BLOCK = 63


def upgrade() -> None:
    table = op.create_table(
        "place_sold_seats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("seat_block", sa.Integer(), nullable=False),
        sa.Column("sold_bits", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["clients.id"], name=op.f("fk_place_sold_seats_tenant_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place_sold_seats")),
        sa.UniqueConstraint(
            "tenant_id",
            "event_id",
            "seat_block",
            name=op.f("uq_place_sold_seats_tenant_id_event_id_seat_block"),
        ),
    )
    # The backfill: one pass over the seats sold (claims without expiry of seat keys), in
    # the migration's transaction; claims that expire are read live, not kept.
    bits: defaultdict[tuple[int, int, int], int] = defaultdict(int)
    sales = op.get_bind().execute(
        sa.text(
            "SELECT tenant_id, event_id, place_key FROM place_claims "
            "WHERE expires_at IS NULL AND place_key LIKE 's%'"
        )
    )
    for tenant_id, event_id, key in sales:
        seat_id = int(key[1:])
        block = (tenant_id, event_id, seat_id // _SEATS_PER_BLOCK)
        bits[block] |= 1 << (seat_id % _SEATS_PER_BLOCK)
    rows = [
        {"tenant_id": t, "event_id": e, "seat_block": b, "sold_bits": n}
        for (t, e, b), n in sorted(bits.items())
    ]
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_table("place_sold_seats")
