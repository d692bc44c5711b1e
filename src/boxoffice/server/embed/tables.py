"""The visitor sessions of embedded shops: a visitor's token and the cart it stands for."""

from sqlalchemy import Column, ForeignKey, Index, String, Table, UniqueConstraint

from boxoffice.server.db.columns import id_and_tenant_columns, instant_column
from boxoffice.server.db.metadata import metadata

embed_sessions = Table(
    "embed_sessions",
    metadata,
    *id_and_tenant_columns(),
    # SHA-256 (hex) of the visitor's token: the token is bearer-like (whoever has it gets
    # the visitor's cart), so only its hash is kept and looked up.
    Column("token_hash", String(64), nullable=False),
    # The session id: the cart of the public API that this token's visitor fills.
    Column("cart_id", String(32), ForeignKey("carts.id"), nullable=False),
    instant_column("created_at"),
    # The last get-session of the token: rows unused for a week are deleted.
    instant_column("last_used_at"),
    UniqueConstraint("tenant_id", "token_hash"),
    Index("ix_embed_sessions_last_used", "tenant_id", "last_used_at"),
)
