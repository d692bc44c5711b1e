"""Portable column types: instants as UTC microseconds, money as integer cents."""

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Integer

# Every instant is stored as integer microseconds since the Unix epoch (UTC). One type on
# SQLite and PostgreSQL: exact ordering, exact keyset cursors, no driver time-zone games.
Instant = BigInteger
Cents = BigInteger


def instant_column(name: str, *, nullable: bool = False) -> "Column[int]":
    return Column(name, Instant, nullable=nullable)


def cents_column(name: str) -> "Column[int]":
    return Column(name, Cents, nullable=False, server_default="0")


def tenant_column() -> "Column[int]":
    return Column("tenant_id", Integer, ForeignKey("clients.id"), nullable=False)


def int_column(name: str, *, nullable: bool = False) -> "Column[int]":
    return Column(name, Integer, nullable=nullable)


def id_and_tenant_columns() -> "list[Column[int]]":
    """A tenant-owned table's surrogate key `id`, then its owner `tenant_id`."""
    return [Column("id", Integer, primary_key=True), tenant_column()]


def one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """The CHECK that keeps a text enum to its values, made from the tuple the code uses."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)
