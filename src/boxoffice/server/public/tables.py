"""The public API's one table: request counts per client address, shared by all workers."""

from sqlalchemy import BigInteger, Column, Index, Integer, PrimaryKeyConstraint, String, Table

from boxoffice.server.db.metadata import metadata

# One row per (address, fixed window); `window_start` is the window's first second (Unix
# time). Rows of past windows are deleted as new windows open.
public_rate_limits = Table(
    "public_rate_limits",
    metadata,
    Column("address", String(64), nullable=False),
    Column("window_start", BigInteger, nullable=False),
    Column("hits", Integer, nullable=False),
    PrimaryKeyConstraint("address", "window_start"),
    Index("ix_public_rate_limits_window_start", "window_start"),
)
