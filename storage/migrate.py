"""Apply the Alembic migrations in ``storage/migrations`` to an engine.

Run on every start and by ``onewindow db upgrade``; upgrading an up-to-date
store does nothing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine, connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(engine, connection), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def autogenerate(engine: Engine, message: str) -> None:
    """Write a new revision from the difference between the models and the store
    (a developer's tool: ``onewindow db revision -m "..."``)."""
    with engine.begin() as connection:
        command.revision(alembic_config(engine, connection), message=message, autogenerate=True)
