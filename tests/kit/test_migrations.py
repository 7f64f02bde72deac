"""The migrations build the schema the models describe, and take it down again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from dsom.kit.db import make_engine
from dsom.kit.migrate import alembic_config, current_revision, downgrade, upgrade
from dsom.models import metadata
from tests.conftest import drop_postgres, fresh_postgres


@pytest.fixture(params=["sqlite", "postgres"])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a new, empty database of each kind."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/empty.db")
        yield engine
        engine.dispose()
        return
    admin = request.getfixturevalue("postgres_admin")
    url = fresh_postgres(admin)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    drop_postgres(admin, url)


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _differences(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


def test_migrations_have_a_single_head() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_upgrade_from_empty_to_head_creates_every_table(empty: Engine) -> None:
    assert current_revision(empty) is None

    upgrade(empty)

    assert current_revision(empty) == _head()
    assert _tables(empty) == set(metadata.tables) | {"alembic_version"}


def test_upgrade_twice_is_harmless(empty: Engine) -> None:
    upgrade(empty)
    upgrade(empty)
    assert current_revision(empty) == _head()


def test_migrated_schema_matches_the_models(empty: Engine) -> None:
    upgrade(empty)
    # Columns, types, nullability, server defaults, indexes, unique and foreign keys:
    # any difference means a model changed without a migration (or the reverse).
    assert _differences(empty) == []


def test_downgrade_to_base_leaves_no_dsom_tables_and_upgrade_works_again(empty: Engine) -> None:
    upgrade(empty)

    downgrade(empty, "base")

    assert _tables(empty) <= {"alembic_version"}
    assert current_revision(empty) is None

    upgrade(empty)

    assert current_revision(empty) == _head()
    assert _differences(empty) == []
