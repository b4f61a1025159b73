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


def _store(database_url: str):
    """The shared store (the work of these workers needs no catalogue)."""
    from storage.db import make_engine

    return make_engine(database_url)


def lead(database_url: str, ahead_seconds: float, ran_file: str, go, answers) -> None:
    """A scheduler whose clock is ``ahead_seconds`` ahead: at ``go`` it tries
    to run a job that appends its pid to ``ran_file``; answers whether it
    ran it, then keeps its lease (never gives it up) until killed."""
    import asyncio
    import os
    import time
    from datetime import timedelta

    from notifications.scheduler import Scheduler
    from storage.models import utcnow

    database = _store(database_url)
    scheduler = Scheduler(database, None, clock=lambda: utcnow() + timedelta(seconds=ahead_seconds))

    def job(now) -> None:
        with open(ran_file, "a") as ran:
            ran.write(f"{os.getpid()}\n")

    scheduler.table["count"] = (job, 1)
    answers.put(("ready", os.getpid()))
    go.wait(180)
    answers.put((os.getpid(), asyncio.run(scheduler.run("count"))))
    time.sleep(600)  # holding the lease as a live leader would, until the test kills it


def claim(database_url: str, answers) -> None:
    """Claim every queued message as an outbox does before sending, then
    hang (the test kills it): work claimed by a process that died."""
    import os
    import time

    from notifications.outbox import Outbox

    database = _store(database_url)
    outbox = Outbox(database, {})
    answers.put(("claimed", os.getpid(), [message_id for message_id, _, _ in outbox._claim(["test"], 1000)]))
    time.sleep(600)


def drain(database_url: str, ahead_seconds: float, sent_file: str, go, answers) -> None:
    """An outbox whose clock is ``ahead_seconds`` ahead, with a sender that
    appends each message's id to ``sent_file``: at ``go`` it delivers until
    nothing is left, then answers how many it sent."""
    import asyncio
    import os
    from datetime import timedelta

    from notifications.outbox import Outbox
    from notifications.senders import SendResult
    from storage.models import utcnow

    class Recording:
        channel, per_second = "test", 0

        async def send(self, message) -> SendResult:
            with open(sent_file, "a") as sent:
                sent.write(f"{message.text}\n")
            await asyncio.sleep(0.001)  # an answer takes a moment: the other process gets its chance
            return SendResult.sent()

    database = _store(database_url)
    outbox = Outbox(database, {"test": Recording()}, clock=lambda: utcnow() + timedelta(seconds=ahead_seconds))
    answers.put(("ready", os.getpid()))
    go.wait(180)

    def left() -> int:
        from sqlmodel import func, select

        from storage.db import session_scope
        from storage.models import Message

        with session_scope(database) as session:
            return session.exec(select(func.count()).where(Message.channel == "test", Message.status.in_(("queued", "sending", "retry")))).one()

    async def until_empty() -> int:
        total = 0
        while True:
            total += await outbox.deliver_due()
            if not await asyncio.to_thread(left):
                return total

    answers.put((os.getpid(), asyncio.run(asyncio.wait_for(until_empty(), 120))))
