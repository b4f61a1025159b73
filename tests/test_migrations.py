"""The migrations build exactly the tables the models describe, on both stores."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from storage.migrate import current_revision, upgrade


def test_migrations_match_the_models(database):
    assert current_revision(database) == "0001"
    with database.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_upgrading_twice_changes_nothing(database):
    upgrade(database)
    assert current_revision(database) == "0001"
