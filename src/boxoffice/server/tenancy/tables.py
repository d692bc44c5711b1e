"""Tables of clients and their API keys."""

from sqlalchemy import Column, ForeignKey, Integer, String, Table, UniqueConstraint

from boxoffice.server.db.columns import instant_column, int_column
from boxoffice.server.db.metadata import metadata

clients = Table(
    "clients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("timezone", String(64), nullable=False, server_default="Europe/Amsterdam"),
    instant_column("created_at"),
    # Moved by every catalog load that changes something (catalog/loading.py): the key of
    # the servers' cached hall and event layouts (catalog/layouts.py), so that the next
    # request after a load reads the new catalog.
    Column("catalog_version", Integer, nullable=False, server_default="0"),
    UniqueConstraint("name"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("clients.id"), nullable=False, index=True),
    # The prefix is public (shown in listings, used to revoke); the hash is of the whole key.
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False),
    instant_column("created_at"),
    instant_column("revoked_at", nullable=True),
    # Requests a minute this key may make (0: no limit); NULL: the server's default
    # (BOXOFFICE_RATE_LIMIT_PER_MINUTE).
    int_column("rate_limit_per_minute", nullable=True),
    UniqueConstraint("prefix"),
)
