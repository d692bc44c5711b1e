"""`boxoffice migrate` says what it did: created the schema, upgraded it, or found it current."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import make_url

from boxoffice.server.db.engine import make_engine
from boxoffice.server.db.migrate import alembic_config, head_revision, upgrade
from boxoffice.server.tables import metadata
from tests.conftest import BACKENDS, _drop_postgres_database, _postgres_database_url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new database with no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'new.db'}"
        return
    name = f"boxoffice_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    yield _postgres_database_url(name)
    _drop_postgres_database(name)


def migrate(database_url: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", "migrate"],
        env={**os.environ, "BOXOFFICE_DATABASE_URL": database_url},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_new_database_is_created_then_found_up_to_date(empty_database_url: str) -> None:
    head = head_revision()
    assert migrate(empty_database_url).startswith(f"created the database schema at revision {head}")
    assert migrate(empty_database_url).startswith(
        f"the database schema is already up to date (revision {head})"
    )


def test_an_older_schema_is_upgraded_and_the_message_names_both_revisions(
    empty_database_url: str,
) -> None:
    head = head_revision()
    assert head is not None
    revision = ScriptDirectory.from_config(alembic_config()).get_revision(head)
    previous = revision.down_revision if revision is not None else None
    if not isinstance(previous, str):
        pytest.skip("only one migration exists: there is no older schema to upgrade from")
    engine = make_engine(empty_database_url)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, previous)
    engine.dispose()
    assert migrate(empty_database_url).startswith(
        f"upgraded the database schema from revision {previous} to {head}"
    )


def test_the_message_names_the_database_without_its_password(empty_database_url: str) -> None:
    if not empty_database_url.startswith("postgresql://"):
        assert migrate(empty_database_url).endswith(empty_database_url)
        return
    with_password = empty_database_url.replace("postgres@", "postgres:s3cret@", 1)
    said = migrate(with_password)
    # The URL as SQLAlchemy writes it (a query's values quoted: `?host=%2Fvar%2Frun...`).
    shown = make_url(said.rpartition(": ")[2])
    assert "s3cret" not in said and shown == make_url(empty_database_url).set(password="***")


def test_the_migrations_make_the_schema_the_tables_declare(empty_database_url: str) -> None:
    """The migrations (written once per change) and the tables the code reads (some made
    from the field tables and the input types) describe the same schema: columns, types
    and lengths, nullability, keys, indexes and foreign keys."""
    engine = make_engine(empty_database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == []
