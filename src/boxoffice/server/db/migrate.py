"""Runs the Alembic migrations (kept in the top-level migrations/ folder) on an engine."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parents[4] / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Upgrade the schema to the head revision; returns the revisions before and after."""
    config = alembic_config()
    before = current_revision(engine)
    # The migration connection manages its own transactions (pysqlite's are switched off).
    with engine.connect().execution_options(manual_transaction=True) as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.execution_options(manual_transaction=False)
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        if conn.dialect.name == "sqlite":
            conn.execution_options(manual_transaction=True)
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
    return before, current_revision(engine)


def describe_upgrade(before: str | None, after: str | None) -> str:
    """What `upgrade` did, in one sentence for the person who ran it."""
    if before is None:
        return f"created the database schema at revision {after}"
    if before != after:
        return f"upgraded the database schema from revision {before} to {after}"
    return f"the database schema is already up to date (revision {after})"


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
