"""Reads on the send path wait for no writer: on SQLite a read-only
connection begins a plain (deferred) transaction, not the write lock every
other transaction takes up front."""

from __future__ import annotations

import threading

from sqlalchemy import text

from storage.db import make_engine, reading


def test_a_read_goes_on_while_a_batch_is_being_written(tmp_path):
    database = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    with database.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    read = []
    with database.begin() as writer:  # holds the write lock, as a batch being written does
        writer.execute(text("INSERT INTO t VALUES (2)"))

        def look_up():
            with reading(database) as conn:
                read.append(conn.execute(text("SELECT count(*) FROM t")).scalar())

        reader = threading.Thread(target=look_up)
        reader.start()
        reader.join(5)
        assert read == [1]  # at once, what was committed; not after the writer, not "database is locked"
    database.dispose()


def test_a_transaction_that_may_write_still_takes_the_lock_up_front(tmp_path):
    database = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    with database.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with database.connect() as conn:
        conn.execute(text("SELECT 1"))
        assert conn.exec_driver_sql("PRAGMA main.journal_mode").scalar() == "wal"
        assert conn.in_transaction()
    # A second writer waits (busy_timeout) rather than both going on and one failing later:
    other = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    with database.begin():
        started = threading.Event()
        done = []

        def second():
            started.set()
            with other.begin() as conn:
                done.append(conn.execute(text("SELECT count(*) FROM t")).scalar())

        thread = threading.Thread(target=second)
        thread.start()
        started.wait()
        thread.join(0.5)
        assert done == []  # still waiting for the first writer
    thread.join(10)
    assert done == [0]
    database.dispose()
    other.dispose()
