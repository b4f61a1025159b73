"""Several bot processes on one store: one citizen's messages are handled
one at a time whichever process receives them, a write that lost a race is
done again from the new state (never written over it), and a redelivery
that reaches two processes at once is handled once."""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field

import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.wiring import open_store
from storage import message_path as path
from storage.db import session_scope
from storage.models import Conversation, Message, Request
from tests import process_worker
from tests.conftest import _truncate
from tests.conversation import Chat
from tests.test_conversations import onboard


def test_a_conversation_write_that_lost_a_race_is_done_again_from_the_new_state(engine, database, monkeypatch):
    ana = Chat(engine, "ana")
    onboard(ana)
    with database.connect() as conn:
        before = path.load_turn(conn, ana.address, ana.address)  # what a slower process read before the next message
    ana.send("There is no electricity in our street for three days")
    assert "I understood this as: Utilities" in ana.text

    real_load, reads = path.load_turn, []

    def first_read_is_stale(conn, address, author):
        reads.append(address)
        real = real_load(conn, address, author)
        return before if len(reads) == 1 else real

    monkeypatch.setattr(path, "load_turn", first_read_is_stale)
    ana.press("Yes, send it")
    assert "Tracking code:" in ana.text  # handled from where the conversation really was
    assert len(reads) == 2
    with session_scope(database) as session:
        assert len(session.exec(select(Request)).all()) == 1
        assert len(session.exec(select(Message).where(Message.direction == "in")).all()) == 6  # nothing stored twice


@dataclass
class Recording(Chat):
    """A chat that keeps what it sent, to be sent again elsewhere."""

    sent: list = field(default_factory=list)

    def deliver(self, msg):
        self.sent.append(msg)
        return super().deliver(msg)


NEEDS = [
    "There is no electricity in our street for three days", "my passport is lost, I need a new one",
    "The road by the school is full of potholes", "No water in the house since Monday",
]


def script(engine, user: str, need: str) -> list:
    """A citizen's conversation through one process: what they sent."""
    chat = Recording(engine, user)
    onboard(chat)
    chat.send(need)
    chat.press("Yes, send it")
    chat.send("menu")
    chat.send("hello again")
    return chat.sent


def outcome(database) -> dict:
    """Where every conversation stands, and what each citizen sent and got."""
    with session_scope(database) as session:
        states = {c.address: (c.flow, c.step, c.version) for c in session.exec(select(Conversation))}
        messages = session.exec(select(Message.address, Message.direction)).all()
        requests = sorted(r.category_id for r in session.exec(select(Request)))
    counts: dict = {}
    for address, direction in messages:
        counts[(address, direction)] = counts.get((address, direction), 0) + 1
    return {"states": states, "messages": counts, "requests": requests}


@pytest.mark.parametrize("processes", [2, 4])
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_processes_sharing_postgresql_end_where_one_process_would(database_url, database, catalog, processes):
    """Citizens talking at once, each message to any process; a message
    redelivered reaches two processes at once."""
    rng = random.Random(processes)
    one = Engine(database, catalog)
    scripts = {f"p{i}": script(one, f"p{i}", NEEDS[i % len(NEEDS)]) for i in range(10)}
    expected = outcome(database)
    _truncate(database_url)

    results: dict = {}
    with process_worker.Processes(database_url, processes) as bots:
        owner, waiting, at = {}, {}, dict.fromkeys(scripts, 0)

        def dispatch(user: str) -> None:
            waiting[user] = set()
            for target in rng.sample(range(processes), 2 if rng.random() < 0.3 else 1):
                ticket = bots.hand(target, scripts[user][at[user]])
                owner[ticket] = (user, at[user])
                waiting[user].add(ticket)

        for user in rng.sample(sorted(scripts), len(scripts)):
            dispatch(user)
        while any(waiting.values()):
            ticket, duplicate, _ = bots.answer()
            user, step = owner[ticket]
            results.setdefault((user, step), []).append(duplicate)
            waiting[user].discard(ticket)
            if not waiting[user]:
                at[user] += 1
                if at[user] < len(scripts[user]):
                    dispatch(user)

    assert all(sorted(handled) in ([False], [False, True]) for handled in results.values())  # each once; a redelivery seen as one
    assert sum(len(handled) == 2 for handled in results.values()) > 5  # and redeliveries did reach two processes at once
    assert outcome(database) == expected


@pytest.mark.parametrize("processes", [2, 4])
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_one_citizens_messages_arriving_at_once_at_several_processes_are_handled_one_at_a_time(
        database_url, database, catalog, migrated_sqlite, tmp_path, processes):
    """A citizen who taps and types faster than the answers come: all their
    messages at once, to any process. Whatever order they were handled in,
    the conversation ends where one process handling them in that order
    ends it; nothing is lost to a write over another."""
    rng = random.Random(processes)
    one = Engine(database, catalog)
    scripts = {f"q{i}": script(one, f"q{i}", NEEDS[i % len(NEEDS)]) for i in range(6)}
    _truncate(database_url)

    with process_worker.Processes(database_url, processes) as bots:
        for user in scripts:  # the first message alone: then all the rest at once
            bots.hand(rng.randrange(processes), scripts[user][0])
        for _ in scripts:
            bots.answer()
        rest = [(user, message) for user, sent in scripts.items() for message in sent[1:]]
        rng.shuffle(rest)
        handed = 0
        for user, message in rest:
            for target in rng.sample(range(processes), 2 if rng.random() < 0.2 else 1):
                bots.hand(target, message)
                handed += 1
        duplicates = sum(bots.answer()[1] is True for _ in range(handed))
    assert duplicates == handed - len(rest)  # every redelivery seen as one

    by_id = {m.external_id: m for sent in scripts.values() for m in sent}
    with session_scope(database) as session:
        handled = session.exec(select(Message.address, Message.external_id).where(Message.direction == "in").order_by(Message.id)).all()
    assert sorted(e for _, e in handled) == sorted(by_id)  # each message stored once

    # One process, the same messages in the order the store committed them:
    replay_store = tmp_path / "replay.sqlite3"
    shutil.copyfile(migrated_sqlite, replay_store)
    replay = open_store(f"sqlite:///{replay_store}")
    alone = Engine(replay, catalog)
    for _, external_id in handled:
        alone.handle(by_id[external_id])
    assert outcome(database)["states"] == outcome(replay)["states"]
    assert outcome(database)["messages"] == outcome(replay)["messages"]
    replay.dispose()
