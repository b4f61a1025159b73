"""On PostgreSQL, one citizen's messages are handled one at a time whichever
process receives them: a message waits while another transaction holds its
address, and only its address (SQLite has one writer process and no such
lock; see :func:`storage.message_path.lock_address`)."""

from __future__ import annotations

import threading

import pytest

from flows.messages import Incoming
from storage import message_path as path

on_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
WAIT = 0.5  # seconds a blocked message is watched before the lock is let go


def _in_background(work) -> tuple[threading.Thread, list]:
    done: list = []
    thread = threading.Thread(target=lambda: done.append(work()), daemon=True)
    thread.start()
    return thread, done


@on_postgresql
def test_a_message_waits_while_another_process_handles_its_citizen(engine, database):
    with database.begin() as conn:  # another process, in the middle of ana's previous message
        path.lock_address(conn, "console:ana")
        thread, done = _in_background(lambda: engine.handle(Incoming("console", "console:ana", text="hello", external_id="l-1")))
        thread.join(WAIT)
        assert thread.is_alive() and done == []
        other, other_done = _in_background(lambda: engine.handle(Incoming("console", "console:ben", text="hello", external_id="l-2")))
        other.join(10)
        assert other_done and other_done[0].replies  # ben's message is not held by ana's lock
    thread.join(10)
    assert done and done[0].replies


@on_postgresql
def test_messages_handled_together_wait_for_each_of_their_citizens(engine, database):
    with database.begin() as conn:
        path.lock_addresses(conn, ["console:ana", "console:ben"])
        messages = [Incoming("console", f"console:{name}", text="hello", external_id=f"t-{name}") for name in ("ben", "carl")]
        thread, done = _in_background(lambda: engine.handle_together(messages))
        thread.join(WAIT)
        assert thread.is_alive() and done == []  # ben is held, and carl's message shares his transaction
    thread.join(10)
    assert done and all(handled.replies for handled in done[0])
