"""When something inside breaks, the citizen's message is still kept and
they are told, in their language; when even keeping it fails, the channel
is told it failed (so it delivers again) — never a silent loss."""

from __future__ import annotations

import pytest
from sqlmodel import select

import bot.engine
from storage import message_path
from storage.db import session_scope
from storage.models import Citizen, Message
from tests.conversation import Chat
from tests.test_conversations import onboard


def broken(*args):
    raise RuntimeError("a bug in a flow")


def rows(database, direction: str) -> list[Message]:
    with session_scope(database) as session:
        found = list(session.exec(select(Message).where(Message.direction == direction).order_by(Message.id)))
        for row in found:
            session.expunge(row)
        return found


def test_a_known_citizen_gets_the_apology_in_her_language_and_her_message_waits_for_a_person(engine, database, monkeypatch):
    olga = Chat(engine, "olga")
    onboard(olga, "Русский")
    monkeypatch.setattr(bot.engine, "respond", broken)
    olga.send("Нет света", external_id="olga-boom")
    assert olga.handled.failed and not olga.handled.duplicate
    assert [r.text for r in olga.replies] == ["Извините, у нас что-то пошло не так. Ваше сообщение сохранено, его посмотрит сотрудник."]
    kept = [m for m in rows(database, "in") if m.external_id == "olga-boom"]
    assert [(m.status, m.text) for m in kept] == [("needs_attention", "Нет света")]
    assert "RuntimeError: a bug in a flow" in kept[0].error
    apology = rows(database, "out")[-1]
    with session_scope(database) as session:
        olga_id = session.exec(select(Citizen.id).where(Citizen.display_name == "olga")).one()
    assert apology.address == olga.address and apology.citizen_id == olga_id and apology.text.startswith("Извините")
    olga.send("👍")  # words that tell no language: hers is on record
    assert olga.handled.failed and olga.text.startswith("Извините"), olga.text


@pytest.mark.parametrize("words, hint, apology", [
    ("Hola, no hay luz en el barrio", None, "Disculpe"),
    ("?", "uz", "Kechirasiz"),
    ("?", None, "Sorry"),
])
def test_a_newcomer_gets_the_apology_in_the_language_of_his_words_or_his_app(engine, database, monkeypatch, words, hint, apology):
    monkeypatch.setattr(bot.engine, "respond", broken)
    newcomer = Chat(engine, "newcomer", language_hint=hint)
    newcomer.send(words)
    assert newcomer.handled.failed and newcomer.text.startswith(apology), newcomer.text
    assert rows(database, "out")[-1].citizen_id is None  # nobody on record yet


def test_a_failed_message_delivered_again_is_recognised_as_kept(engine, database, monkeypatch):
    monkeypatch.setattr(bot.engine, "respond", broken)
    chat = Chat(engine, "twice")
    chat.send("hello", external_id="upd-9")
    assert chat.handled.failed
    chat.send("hello", external_id="upd-9")
    assert chat.handled.duplicate and not chat.handled.failed and chat.replies == []
    assert len([m for m in rows(database, "in") if m.external_id == "upd-9"]) == 1


def test_when_the_store_cannot_keep_the_message_the_channel_is_told_it_failed(engine, database, monkeypatch):
    monkeypatch.setattr(bot.engine, "respond", broken)

    def store_down(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(message_path, "insert_messages", store_down)
    chat = Chat(engine, "unlucky")
    chat.send("hello")
    assert chat.handled.failed and not chat.handled.duplicate and chat.replies == []


def test_when_only_the_apology_cannot_be_queued_the_message_is_still_kept(engine, database, monkeypatch):
    monkeypatch.setattr(bot.engine, "respond", broken)
    real, calls = message_path.insert_messages, []

    def second_fails(conn, values):
        calls.append(values)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(conn, values)

    monkeypatch.setattr(message_path, "insert_messages", second_fails)
    chat = Chat(engine, "half")
    chat.send("hello", external_id="half-1")
    assert chat.handled.failed and chat.replies == []
    assert [m.external_id for m in rows(database, "in")] == ["half-1"]


def test_a_staff_command_delivered_twice_is_done_once(engine, database):
    from handlers.staff.team import add

    with session_scope(database) as session:
        add(session, "console:root", "admin", None, "Root")
    root = Chat(engine, "root")
    root.send("/staff invite caseworker", external_id="cmd-1")
    assert not root.handled.duplicate and "invite" in root.text.lower()
    root.send("/staff invite caseworker", external_id="cmd-1")
    assert root.handled.duplicate and root.replies == []


def test_a_staff_command_that_breaks_is_kept_for_a_person_with_an_apology(engine, database, monkeypatch):
    from handlers.staff.team import add

    with session_scope(database) as session:
        add(session, "console:root", "admin", None, "Root")
    monkeypatch.setattr(engine.desk, "handle", broken)
    root = Chat(engine, "root")
    root.send("/inbox", external_id="cmd-broken")
    assert root.handled.failed and "Sorry" in root.text
    assert [(m.external_id, m.status) for m in rows(database, "in")] == [("cmd-broken", "needs_attention")]
