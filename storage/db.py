"""One engine per process, one session per unit of work.

SQLite is the default (a file in the data folder, WAL, foreign keys on,
``BEGIN IMMEDIATE`` so two writers queue instead of failing half-way);
PostgreSQL is used when ``DATABASE_URL`` names it.

Statement parameters are citizens' words, names and numbers: the engine is
made with ``hide_parameters``, so an error's text (and ``echo``) shows the
SQL with ``[SQL parameters hidden due to hide_parameters=True]`` instead of
the values. The database's own message may still quote a value (PostgreSQL's
``DETAIL: Key (address)=(…)``): logs use :func:`flows.masking.error_summary`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlmodel import Session, create_engine


class StoreUnavailable(Exception):
    """The store cannot be opened; the message says why in one sentence,
    for a person at a terminal (the command line prints it and exits 1)."""


@contextmanager
def opening_store(url: str) -> Iterator[None]:
    """Turn what goes wrong while opening the store (a wrong ``DATABASE_URL``,
    a server that is down, a ``DATA_DIR`` that is a file or read-only) into
    one :class:`StoreUnavailable` with a plain sentence."""
    try:
        yield
    except StoreUnavailable:
        raise
    except (SQLAlchemyError, OSError, ImportError) as error:
        raise StoreUnavailable(describe_store_error(url, error)) from error


def describe_store_error(url: str, error: BaseException) -> str:
    shown = _masked(url)
    if isinstance(error, (FileExistsError, NotADirectoryError)):
        return f"Cannot open the store: {error.filename or shown} is a file, not a folder (check DATA_DIR)."
    if isinstance(error, PermissionError):
        return f"Cannot open the store: no permission to create {error.filename or shown} (check DATA_DIR)."
    if isinstance(error, OSError):
        return f"Cannot open the store at {error.filename or shown}: {error.strerror or error} (check DATA_DIR)."
    if isinstance(error, ArgumentError) and not isinstance(error, NoSuchModuleError):
        return f"DATABASE_URL is not a database URL ({shown}): use postgresql://USER:PASSWORD@HOST/DATABASE, or leave it empty for SQLite in DATA_DIR."
    if isinstance(error, (NoSuchModuleError, ImportError)):
        return f"DATABASE_URL names a database onewindow does not support ({shown}): use PostgreSQL (postgresql://…) or leave it empty for SQLite."
    reason = _first_line(getattr(error, "orig", None) or error)
    if _is_sqlite(url):
        return f"Cannot write the SQLite store {shown} ({reason}): is DATA_DIR a writable folder?"
    return f"Cannot connect to the database at {shown}: {reason}."


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0].rstrip(".") if lines else type(error).__name__


def _masked(url: str) -> str:
    try:
        parsed = make_url(url)
    except Exception:
        return "an unreadable URL"
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or url
    return parsed.render_as_string(hide_password=True)


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def normalize_url(url: str) -> str:
    """Accept the URLs people paste (``postgres://``, ``postgresql://``) and
    pick the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


SQLITE_CACHE_KIB = 512  # per connection
READ_ONLY = "onewindow_read_only"


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads only: on SQLite it takes no write lock, so a
    look-up on the send path never waits for a batch being written."""
    with engine.connect() as conn:
        yield conn.execution_options(**{READ_ONLY: True})


def make_engine(url: str, *, echo: bool = False) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, echo)
    return create_engine(url, echo=echo, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_engine(url: str, database: str | None, echo: bool) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, hide_parameters=True, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" below decide when a transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if database and database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Each pooled connection keeps a page cache of its own (2 MB by
            # default, a dozen connections in a busy bot): a small one each,
            # as the operating system caches the file for all of them.
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Take the write lock up front: a reader that later writes would
        # otherwise fail with "database is locked" when another writer won.
        # What only reads (see reading()) waits for no writer.
        only_reads = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if only_reads else "BEGIN IMMEDIATE")

    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def insert_new(session: Session, model, rows: dict | list[dict], key: str) -> int:
    """Insert ``rows`` in one statement, leaving alone any whose ``key`` (a
    unique column) is already taken — by an earlier run or another process.
    Returns how many were new (counted from RETURNING: ``rowcount`` is not
    reliable here on every driver)."""
    if not rows:
        return 0
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = model.__table__
    # The rows go as parameters of one statement compiled once (SQLAlchemy
    # sends them as multi-row VALUES in as few round trips as it can), not
    # as literal VALUES compiled anew for every batch: a quarter of a second
    # of CPU for 500 rows that way.
    statement = insert(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c.id)
    done = session.execute(statement, [rows] if isinstance(rows, dict) else rows)
    return len(done.fetchall())
