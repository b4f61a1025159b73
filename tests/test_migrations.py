"""The migrations build exactly the tables the models describe, on both stores."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from alembic.script import ScriptDirectory

from storage.migrate import alembic_config, current_revision, upgrade


def head(database) -> str:
    """The one head of the migration history (two heads would raise here)."""
    return ScriptDirectory.from_config(alembic_config(database)).get_current_head()


def test_migrations_match_the_models(database):
    assert current_revision(database) == head(database)
    with database.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_upgrading_twice_changes_nothing(database):
    upgrade(database)
    assert current_revision(database) == head(database)
