"""The operations layer's one table: request budgets shared by every worker, per fixed window."""

from sqlalchemy import Column, Index, String, Table

from boxoffice.server.db.columns import Instant, instant_column, int_column
from boxoffice.server.db.metadata import metadata

# One row per (budget, identity, window): how many units of the window's limit the workers
# have leased so far. Rows of ended windows are deleted as workers open new windows.
rate_limit_windows = Table(
    "rate_limit_windows",
    metadata,
    # Which limit: `key` (an API key's prefix) or `public` (a client address).
    Column("budget", String(16), primary_key=True),
    Column("identity", String(64), primary_key=True),
    Column("window_start_at", Instant, primary_key=True),
    instant_column("window_end_at"),
    int_column("granted"),
    # The size of the last lease, so that the one statement that grants it can return it.
    int_column("last_grant"),
    Index("ix_rate_limit_windows_window_end_at", "window_end_at"),
)
