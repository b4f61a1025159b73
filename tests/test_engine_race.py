"""Two first messages of a new citizen at once, taken by two processes
sharing one store (two engines here): one of them loses the race to create
the citizen. Its message must still be stored and answered, never taken for
a redelivery and dropped."""

from __future__ import annotations

import threading

from sqlmodel import func, select

from bot.engine import Engine
from flows.messages import Incoming
from storage.db import session_scope
from storage.models import Citizen, Identity, Message

NEWCOMERS = 12


def first_message(user: int, n: int) -> Incoming:
    return Incoming(channel="whatsapp", address=f"whatsapp:+54922155{user:05d}", text=f"hola, mensaje {n}",
                    external_id=f"SM-race-{user}-{n}", name=f"Vecino {user}")


def test_two_first_messages_at_once_are_both_stored_and_answered(database, catalog):
    engines = [Engine(database, catalog), Engine(database, catalog)]
    outcomes: dict[str, object] = {}

    def send(engine: Engine, msg: Incoming, start: threading.Barrier) -> None:
        start.wait()
        outcomes[msg.external_id] = engine.handle(msg)

    for user in range(NEWCOMERS):
        start = threading.Barrier(2)
        threads = [threading.Thread(target=send, args=(engines[n], first_message(user, n), start)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert len(outcomes) == 2 * NEWCOMERS
    assert [key for key, handled in outcomes.items() if handled.duplicate] == []  # none taken for a redelivery
    assert [key for key, handled in outcomes.items() if handled.failed] == []
    assert all(handled.replies for handled in outcomes.values())
    with session_scope(database) as session:
        inbound = session.exec(select(Message.external_id).where(Message.direction == "in")).all()
        assert sorted(inbound) == sorted(outcomes)
        assert session.exec(select(func.count()).select_from(Citizen)).one() == NEWCOMERS
        assert session.exec(select(func.count()).select_from(Identity)).one() == NEWCOMERS


def test_a_true_redelivery_is_still_handled_once(database, catalog):
    engines = [Engine(database, catalog), Engine(database, catalog)]
    msg = first_message(99, 0)
    start = threading.Barrier(2)
    outcomes = []

    def send(engine: Engine) -> None:
        start.wait()
        outcomes.append(engine.handle(msg))

    threads = [threading.Thread(target=send, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(handled.duplicate for handled in outcomes) == [False, True]
    with session_scope(database) as session:
        assert session.exec(select(func.count()).select_from(Message).where(Message.direction == "in")).one() == 1


def test_the_callers_write_commits_with_the_message_or_not_at_all(engine, database):
    """The Telegram inbox clears a raw update in the transaction that stores
    its message: a message handled is an update cleared, a redelivery or a
    failure leaves the clearing to the caller."""
    from flows.messages import Incoming
    from storage.models import Message

    writes = []
    first = engine.handle(Incoming("telegram", "telegram:77", text="Hola", external_id="u-1"),
                          also=lambda conn: writes.append(conn.in_transaction()))
    assert first.also_done and writes == [True]
    again = engine.handle(Incoming("telegram", "telegram:77", text="Hola", external_id="u-1"), also=lambda conn: writes.append("again"))
    assert again.duplicate and not again.also_done and writes == [True]

    def broken(conn):
        raise RuntimeError("the caller's write failed")

    failed = engine.handle(Incoming("telegram", "telegram:77", text="menu", external_id="u-2"), also=broken)
    assert failed.failed and not failed.also_done
    with session_scope(database) as session:  # kept for a person, with nothing of the rolled-back turn
        stored = session.exec(select(Message).where(Message.external_id == "u-2")).all()
    assert [(m.direction, m.status) for m in stored] == [("in", "needs_attention")]


def test_a_message_without_a_channel_id_that_lost_a_race_is_tried_again_not_dropped(engine, database, monkeypatch):
    """Only a message with the channel's id can be a redelivery. One without
    (a channel that gives none) that lost a race is simply tried again."""
    from sqlalchemy.exc import IntegrityError

    import bot.engine

    real, lost = bot.engine.path.lock_address, []

    def losing_once(conn, address):
        if not lost:
            lost.append(address)
            raise IntegrityError("INSERT INTO citizen ...", {}, Exception("another process created this citizen first"))
        return real(conn, address)

    monkeypatch.setattr(bot.engine.path, "lock_address", losing_once)
    handled = engine.handle(Incoming(channel="console", address="console:nomad", text="hola", external_id=None, name="Nomad"))
    assert lost == ["console:nomad"]
    assert not handled.duplicate and not handled.failed and handled.replies
    with session_scope(database) as session:
        assert session.exec(select(Message.text).where(Message.direction == "in")).all() == ["hola"]
