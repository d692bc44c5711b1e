"""Alembic environment: runs the migrations on the engine handed over by `boxoffice migrate`."""

from alembic import context
from sqlalchemy import Connection

from boxoffice.server.tables import metadata

config = context.config


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    from boxoffice.server.config import get_settings
    from boxoffice.server.db.engine import make_engine

    engine = make_engine(get_settings().database_url)
    with engine.connect() as conn:
        run_migrations(conn)
else:
    run_migrations(connection)
