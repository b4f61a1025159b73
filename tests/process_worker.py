"""A bot process for the several-processes tests: an engine on the shared
store that handles what it is handed, and says what it did."""

from __future__ import annotations

import queue as queues


def serve(database_url: str, inbox, outbox) -> None:
    """Handle messages from ``inbox`` until ``None``; answer on ``outbox``
    with (ticket, duplicate, reply texts), or (ticket, "error", text)."""
    from bot.catalog import Catalog
    from bot.engine import Engine
    from storage.db import make_engine

    database = make_engine(database_url)
    engine = Engine(database, Catalog.from_store(database))
    outbox.put(("ready", None, None))
    while True:
        try:
            item = inbox.get(timeout=120)
        except queues.Empty:
            break
        if item is None:
            break
        ticket, message = item
        try:
            handled = engine.handle(message)
            outbox.put((ticket, handled.duplicate, [reply.text for reply in handled.replies]))
        except BaseException as error:  # the test reports it; the worker goes on
            outbox.put((ticket, "error", repr(error)))
    database.dispose()


class Processes:
    """``n`` bot processes on one store, handed messages by the test."""

    def __init__(self, database_url: str, n: int):
        import multiprocessing

        spawn = multiprocessing.get_context("spawn")
        self.inboxes, self.answers = [spawn.Queue() for _ in range(n)], spawn.Queue()
        self.workers = [spawn.Process(target=serve, args=(database_url, inbox, self.answers), daemon=True) for inbox in self.inboxes]
        self.tickets = 0

    def __enter__(self) -> Processes:
        for worker in self.workers:
            worker.start()
        for _ in self.workers:
            assert self.answers.get(timeout=180)[0] == "ready"
        return self

    def __exit__(self, *exc) -> None:
        for inbox in self.inboxes:
            inbox.put(None)
        for worker in self.workers:
            worker.join(30)

    def hand(self, process: int, message) -> int:
        self.tickets += 1
        self.inboxes[process].put((self.tickets, message))
        return self.tickets

    def answer(self) -> tuple[int, object, list[str]]:
        ticket, duplicate, replies = self.answers.get(timeout=120)
        assert duplicate != "error", replies
        return ticket, duplicate, replies
