"""One ``onewindow run`` per SQLite store.

SQLite has one writer at a time and no locks across machines: two bots on
one file would take turns at every message, and their outboxes and timed
jobs would not know of each other. So a bot on SQLite holds a lock on a
file beside the store for as long as it runs (the system releases it when
the process ends, however it ends), and a second one is refused with the
reason. Several processes share one store on PostgreSQL instead.

The shell's short commands (``import``, ``report``, ``staff``...) do not
take the lock: they write once and leave, and SQLite makes them wait their
turn.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.db import opening_store


class AnotherBotRunning(Exception):
    """A second bot on one SQLite store, said plainly."""


def lock_path(database_url: str) -> Path | None:
    """The lock file of a SQLite store (None: not SQLite, or in memory)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).with_name(Path(url.database).name + ".lock")


@contextmanager
def only_bot(database_url: str) -> Iterator[None]:
    """Hold the store's lock while the bot runs; refuse if another bot holds it."""
    path = lock_path(database_url)
    if path is None:
        yield
        return
    with opening_store(database_url):  # DATA_DIR a file, or not writable: one sentence, as for the store itself
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise AnotherBotRunning(
                f"Another onewindow run (process {holder}) is using the store {path.with_suffix('')}. SQLite serves one bot "
                "process at a time: stop the other one, or give both the same PostgreSQL store with DATABASE_URL."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock
