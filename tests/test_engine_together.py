"""Messages that arrive together are handled in one transaction (group
commit): each citizen gets the answer they would get alone, one broken
message costs the others nothing, staff's words among them still reach the
desk, a redelivery among them is handled once, and two processes handling
overlapping citizens at once never wait for each other in a circle."""

from __future__ import annotations

import shutil
import threading

from sqlalchemy import event, text
from sqlmodel import select

import bot.engine
from bot.catalog import Catalog
from bot.engine import Engine
from bot.wiring import open_store
from flows.messages import Incoming
from storage.db import session_scope
from storage.models import Conversation, Message, Request, RequestEvent
from tests.conversation import Chat
from tests.test_conversations import onboard
from tests.test_staff import staff  # noqa: F401

NEIGHBOURS = ["ana", "ben", "caro", "dan"]


def codes() -> list[str]:
    """Tracking codes in a known order, so that two stores give the same."""
    return iter([f"T{n:02d}-AAA" for n in range(50)]).__next__


def onboarded(engine: Engine) -> dict[str, Chat]:
    chats = {name: Chat(engine, name) for name in NEIGHBOURS}
    for chat in chats.values():
        onboard(chat)
    return chats


def together(chats: dict[str, Chat], words: dict[str, str], tag: str) -> list[Incoming]:
    return [Incoming("console", chats[name].address, text=said, external_id=f"{tag}-{name}", name=name) for name, said in words.items()]


def commits(database) -> list[int]:
    counted: list[int] = []
    event.listen(database, "commit", lambda conn: counted.append(1))
    return counted


WORDS = {
    "ana": "No water in our street since Monday",
    "ben": "menu",
    "caro": "hello",
    "dan": "The water pipe on our street is broken, no water",
}


def test_citizens_writing_at_once_share_one_commit_and_each_gets_the_answer_they_would_alone(database, catalog, migrated_sqlite, tmp_path):
    engine = Engine(database, catalog, make_code=codes())
    chats = onboarded(engine)
    counted = commits(database)
    done = engine.handle_together(together(chats, WORDS, "first"))
    assert len(counted) == 1  # four messages, one commit

    copy = tmp_path / "alone.sqlite3"
    shutil.copyfile(migrated_sqlite, copy)
    alone_store = open_store(f"sqlite:///{copy}")
    alone = Engine(alone_store, Catalog.from_store(alone_store), make_code=codes())
    alone_chats = onboarded(alone)
    one_by_one = [alone.handle(msg) for msg in together(alone_chats, WORDS, "first")]
    assert [[r.text for r in h.replies] for h in done] == [[r.text for r in h.replies] for h in one_by_one]
    assert all(h.replies for h in done)

    # Both reporters of the water confirm together: two requests, the second grouped with the first.
    presses = []
    for name in ("ana", "dan"):
        chats[name].replies = done[NEIGHBOURS.index(name)].replies
        menu = next(r for r in reversed(chats[name].replies) if r.choices)
        presses.append(Incoming("console", chats[name].address, event={"type": "button", "data": _yes(menu)},
                                external_id=f"yes-{name}", name=name))
    filed = engine.handle_together(presses)
    assert [h.request_codes for h in filed] == [["T00-AAA"], ["T01-AAA"]]
    with session_scope(database) as session:
        requests = {r.code: r for r in session.exec(select(Request))}
        assert requests["T01-AAA"].group_id == requests["T00-AAA"].id  # neighbours' one problem, linked once stored
        assert len(session.exec(select(Message).where(Message.direction == "in")).all()) == 4 * 4 + 4 + 2
    alone_store.dispose()


def _yes(menu) -> str:
    from flows.router import button_data

    return button_data(int(menu.menu_id), next(c.key for c in menu.choices if c.key == "yes"))


def test_one_broken_message_among_them_costs_the_others_nothing(engine, database, monkeypatch):
    chats = onboarded(engine)
    real = bot.engine.respond

    def broken_for_ben(state, msg, view):
        if msg.address == chats["ben"].address:
            raise RuntimeError("a bug in a flow")
        return real(state, msg, view)

    monkeypatch.setattr(bot.engine, "respond", broken_for_ben)
    counted = commits(database)
    done = engine.handle_together(together(chats, {name: "hello" for name in NEIGHBOURS}, "mixed"))
    assert [h.failed for h in done] == [False, True, False, False]
    assert "Sorry" in done[1].replies[0].text  # the apology, in his language
    assert all("Main menu" in h.replies[-1].text or h.replies for h in done)
    assert len(counted) > 1  # the shared transaction was given up, each done on its own
    with session_scope(database) as session:
        kept = {m.external_id: m.status for m in session.exec(select(Message).where(Message.direction == "in", Message.external_id.like("mixed-%")))}
    assert kept == {"mixed-ana": "processed", "mixed-ben": "needs_attention", "mixed-caro": "processed", "mixed-dan": "processed"}


def test_a_redelivery_among_them_is_handled_once_and_costs_the_others_no_second_try(engine, database):
    chats = onboarded(engine)
    [earlier] = together(chats, {"caro": "hello"}, "before")
    engine.handle(earlier)
    messages = together(chats, {"ana": "hello", "ben": "menu"}, "again")
    counted = commits(database)
    done = engine.handle_together([*messages, messages[0], earlier])
    assert [h.duplicate for h in done] == [False, False, True, True]
    assert len(counted) == 1  # known for what they are before they could fail the others' transaction
    with session_scope(database) as session:
        assert len(session.exec(select(Message).where(Message.external_id == "again-ana")).all()) == 1
        assert len(session.exec(select(Message).where(Message.external_id == "before-caro")).all()) == 1


def test_staff_words_among_citizens_messages_reach_the_desk(engine, database, staff):  # noqa: F811
    chats = onboarded(engine)
    karim = Incoming("console", "console:karim", text="hello", external_id="karim-1", name="Karim")
    done = engine.handle_together([*together(chats, {"ana": "hello"}, "desk"), karim, *together(chats, {"ben": "hello"}, "desk")])
    assert [h.by_desk for h in done] == [False, True, False]
    assert "/inbox" in done[1].replies[0].text  # the desk's hint, not a citizen's welcome
    with session_scope(database) as session:
        assert session.get(Conversation, "console:karim") is None  # nothing written as if he were a citizen

    Chat(engine, "root").send("/staff remove Karim")
    again = Incoming("console", "console:karim", text="hello", external_id="karim-2", name="Karim")
    [handled] = engine.handle_together([again])
    assert not handled.by_desk  # a citizen again
    with session_scope(database) as session:
        assert session.get(Conversation, "console:karim") is not None


def test_two_processes_handling_the_same_citizens_in_opposite_orders_never_deadlock(database, catalog, monkeypatch):
    """Each handles the same four citizens' messages together, one in the
    opposite order of the other, at once: their addresses are locked in one
    order, so PostgreSQL never has to break a circle of waits."""
    first = Engine(database, catalog)
    chats = onboarded(first)
    locked: list[list[str]] = []
    real_lock = bot.engine.path.lock_addresses

    def lock_addresses(conn, addresses):
        locked.append(list(addresses))
        return real_lock(conn, addresses)

    monkeypatch.setattr(bot.engine.path, "lock_addresses", lock_addresses)
    second = Engine(database, catalog)
    deadlocks = _deadlocks(database)
    rounds = 8
    start = threading.Barrier(2)
    done: dict[str, list] = {"first": [], "second": []}

    def run(engine: Engine, name: str, order: list[str]) -> None:
        for n in range(rounds):
            start.wait(timeout=30)
            done[name] += engine.handle_together(together(chats, {who: "menu" for who in order}, f"{name}-{n}"))

    threads = [threading.Thread(target=run, args=(first, "first", NEIGHBOURS)),
               threading.Thread(target=run, args=(second, "second", NEIGHBOURS[::-1]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(done["first"]) == len(done["second"]) == rounds * len(NEIGHBOURS)
    assert not any(h.failed or h.duplicate for h in done["first"] + done["second"])
    assert _deadlocks(database) == deadlocks
    assert len(locked) >= 2 * rounds and all(addresses == sorted(addresses) for addresses in locked)  # one order, whoever came first
    with session_scope(database) as session:
        assert len(session.exec(select(Message).where(Message.direction == "in", Message.text == "menu")).all()) == 2 * rounds * len(NEIGHBOURS)


def _deadlocks(database) -> int:
    """How many deadlocks PostgreSQL has broken in this database (SQLite has one writer: none)."""
    if database.dialect.name != "postgresql":
        return 0
    with database.connect() as conn:
        return conn.execute(text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")).scalar()


def test_a_request_whose_grouping_fails_is_filed_all_the_same(engine, database, monkeypatch):
    chats = onboarded(engine)
    monkeypatch.setattr(bot.engine.groups, "link_at_intake", lambda *args: 1 / 0)
    chats["ana"].send("No water in our street since Monday")
    chats["ana"].press("yes")
    [code] = chats["ana"].handled.request_codes
    assert code in chats["ana"].text
    with session_scope(database) as session:
        request = session.exec(select(Request).where(Request.code == code)).one()
        assert request.group_id is None
        assert [e.kind for e in session.exec(select(RequestEvent).where(RequestEvent.request_id == request.id))] == ["created"]


def test_while_messages_are_handled_together_their_citizens_are_locked_to_every_other_writer(engine, database, monkeypatch):
    """Another process cannot touch those conversations until the commit:
    on PostgreSQL each address's advisory lock is held; SQLite has one
    writer, and it is this transaction."""
    chats = onboarded(engine)
    real_turn, probes = engine._turn, []

    def turn(conn, msg, also, ask_staff):
        if not probes:
            probes.append(_others_may_write(database, [chat.address for chat in chats.values()]))
        return real_turn(conn, msg, also, ask_staff)

    monkeypatch.setattr(engine, "_turn", turn)
    done = engine.handle_together(together(chats, {name: "menu" for name in NEIGHBOURS}, "locked"))
    assert probes == [[False] * len(NEIGHBOURS)]
    assert not any(h.failed for h in done)
    assert _others_may_write(database, [chat.address for chat in chats.values()]) == [True] * len(NEIGHBOURS)  # and free after


def _others_may_write(database, addresses: list[str]) -> list[bool]:
    """Whether another connection could take each address's lock now."""
    if database.dialect.name == "postgresql":
        with database.connect() as other:
            return [other.execute(text("SELECT pg_try_advisory_xact_lock(hashtextextended(:a, 0))"), {"a": a}).scalar() for a in addresses]
    import sqlite3

    other = sqlite3.connect(database.url.database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return [True] * len(addresses)
    except sqlite3.OperationalError:
        return [False] * len(addresses)
    finally:
        other.close()
