"""Alembic environment: the URL comes from the caller or from DSOM settings."""

from __future__ import annotations

from alembic import context

from dsom.kit.db import make_engine
from dsom.kit.settings import get_settings
from dsom.models import metadata

config = context.config


def run_migrations_online() -> None:
    """Run the migrations on the connection handed in, or on the configured database."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    context.run_migrations()


run_migrations_online()
