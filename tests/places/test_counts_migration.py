"""Migrations 0004 and 0008 create the kept counts and sold seats and fill them from the
claims already there."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text

from boxoffice.server.db.engine import make_engine
from boxoffice.server.db.migrate import alembic_config, upgrade
from boxoffice.server.places.repository import seat_block
from tests.conftest import BACKENDS, _drop_postgres_database, _postgres_database_url

BEFORE_COUNTS = "0003"
BEFORE_SOLD_SEATS = "0007"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sold.db'}"
        return
    name = f"boxoffice_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    yield _postgres_database_url(name)
    _drop_postgres_database(name)


def _claims() -> list[dict[str, object]]:
    """Two clients' claims: sales, a paid-for reservation's, live and expired holds."""
    rows: list[dict[str, object]] = []
    for tenant in (1, 2):
        for n in range(1, 41):  # event 10: 40 seats sold, of ranks 1 and 2
            rows.append(dict(t=tenant, e=10, k=f"s{n}", r=1 + n % 2, c=None, s=n, x=None))
        for n in range(1, 8):  # event 11: 7 units of rank 3 sold
            rows.append(dict(t=tenant, e=11, k=f"u3:{n}", r=3, c=None, s=100 + n, x=None))
    rows += [
        dict(t=1, e=10, k="s50", r=1, c=7, s=None, x=2_000_000_000_000_000),  # a live hold
        dict(t=1, e=10, k="s51", r=1, c=8, s=None, x=1),  # an expired hold
        dict(t=2, e=11, k="u3:8", r=3, c=None, s=200, x=2_000_000_000_000_000),  # unpaid
    ]
    return rows


def _claims_made_at(database_url: str, revision: str) -> Engine:
    """An engine of a database migrated to `revision` holding `_claims()`, then upgraded."""
    engine = make_engine(database_url)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    with engine.begin() as conn:
        for tenant in (1, 2):
            conn.execute(
                text("INSERT INTO clients (id, name, created_at) VALUES (:id, :name, 0)"),
                {"id": tenant, "name": f"before-{revision}-{tenant}"},
            )
        conn.execute(
            text(
                "INSERT INTO place_claims (tenant_id, event_id, place_key, rank_id,"
                " cart_item_id, order_seat_id, expires_at) VALUES (:t, :e, :k, :r, :c, :s, :x)"
            ),
            _claims(),
        )
    before, _after = upgrade(engine)
    assert before == revision
    return engine


def _rows_after_upgrade(
    database_url: str, revision: str, columns_from: str
) -> list[tuple[int, ...]]:
    """`SELECT columns_from` (its first three columns the order) after `_claims_made_at`."""
    engine = _claims_made_at(database_url, revision)
    order = ", ".join(columns_from.split(", ")[:3])
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {columns_from} ORDER BY {order}")).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_the_counts_are_filled_from_the_sales_already_made(database_url: str) -> None:
    counts = _rows_after_upgrade(
        database_url, BEFORE_COUNTS, "tenant_id, event_id, rank_id, sold FROM place_counts"
    )
    # Sales only: holds and the unpaid reservation's place expire, and are counted live.
    assert counts == [
        (1, 10, 1, 20),
        (1, 10, 2, 20),
        (1, 11, 3, 7),
        (2, 10, 1, 20),
        (2, 10, 2, 20),
        (2, 11, 3, 7),
    ]


def test_the_sold_seats_are_filled_from_the_seats_already_sold(database_url: str) -> None:
    kept = _rows_after_upgrade(
        database_url,
        BEFORE_SOLD_SEATS,
        "tenant_id, event_id, seat_block, sold_bits FROM place_sold_seats",
    )
    # Seats 1-40 of event 10 sold, in block 0 (seats 0-62): bits 1-40. Units (event 11),
    # the live and the expired hold (s50, s51) are not sold seats.
    sold = sum(1 << n for n in range(1, 41))
    assert kept == [(1, 10, 0, sold), (2, 10, 0, sold)]
    assert seat_block(40) == (0, 1 << 40)
