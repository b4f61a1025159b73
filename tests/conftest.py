"""Shared fixtures: a fresh store on SQLite and on PostgreSQL, the catalogue,
and an engine with a recording outbox."""

from __future__ import annotations

import os
import shutil
import sys
import uuid

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text

pytest_plugins = ["tests.telegram_emulator"]

# Property-based tests: CI runs a small, fixed set of examples (the same on
# every run, so a red build is reproducible); `make fuzz` runs the long profile.
_HYPOTHESIS = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=int(os.environ.get("FUZZ_EXAMPLES", 20)), derandomize=True, database=None, print_blob=True, **_HYPOTHESIS)
settings.register_profile("fuzz", max_examples=int(os.environ.get("FUZZ_EXAMPLES", 400)), print_blob=True, **_HYPOTHESIS)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_terminal_summary(terminalreporter):
    fuzz = sys.modules.get("tests.test_fuzz_conversations")
    if fuzz is not None and (line := fuzz.summary()):
        terminalreporter.write_line(line)



@pytest.fixture(scope="session", autouse=True)
def shared_models(tmp_path_factory):
    """Every bot a test starts (in this process or a child) shares one saved
    classifier model, as processes on one machine may: fitted once a run."""
    os.environ["MODELS_DIR"] = str(tmp_path_factory.mktemp("models"))
    yield
    os.environ.pop("MODELS_DIR", None)


POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_schema_url() -> tuple[str, str]:
    """A URL whose connections use a schema of their own, so test runs never
    see each other's tables (or a developer's)."""
    schema = f"t_{uuid.uuid4().hex[:10]}"
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}", schema


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL database for this test session. In CI it must be there;
    on a developer's machine without one, the PostgreSQL half is skipped."""
    from storage.db import make_engine

    admin = make_engine(POSTGRES_URL)
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and is not reachable at {POSTGRES_URL}: {error}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL} (set TEST_POSTGRES_URL)")
    url, schema = _postgres_schema_url()
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    yield url
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_postgres(postgres_url):
    from bot.wiring import open_store

    database = open_store(postgres_url)
    database.dispose()
    return postgres_url


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """One SQLite store brought up to date and seeded once a session; each
    test gets a copy of the file, the same bytes a first start would write."""
    from bot.wiring import open_store

    path = tmp_path_factory.mktemp("template") / "store.sqlite3"
    open_store(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The same test on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        store = tmp_path / "store.sqlite3"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), store)
        return f"sqlite:///{store}"
    url = request.getfixturevalue("migrated_postgres")
    _truncate(url)
    return url


def _truncate(url: str) -> None:
    from sqlmodel import SQLModel

    from storage.db import make_engine

    engine = make_engine(url)
    names = ", ".join(t.name for t in SQLModel.metadata.sorted_tables if t.name not in ("category", "locality", "department"))
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database(database_url):
    from bot.wiring import open_store

    database = open_store(database_url)
    yield database
    database.dispose()


@pytest.fixture
def catalog(database):
    from bot.catalog import Catalog

    return Catalog.from_store(database)


@pytest.fixture
def engine(database, catalog):
    """The engine on the store, with nothing delivering its replies: tests
    read them from what it returns, or from the outbox."""
    from bot.engine import Engine

    return Engine(database, catalog)
