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


def upgrade(engine: Engine) -> None:
    config = alembic_config()
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


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
