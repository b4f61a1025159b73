"""Bad input gets a clear, polite answer in the citizen's language; nothing
crashes, and every message the citizen sent is in the store afterwards."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from storage import queries
from storage.db import session_scope
from storage.models import Message, Request
from tests.conversation import Chat
from tests.test_conversations import onboard


@pytest.fixture
def olga(engine):
    chat = Chat(engine, "olga")
    onboard(chat, "Русский")
    return chat


def inbound_count(database) -> int:
    with session_scope(database) as session:
        return queries.count_messages(session, direction="in")


def test_each_kind_of_bad_input_gets_an_answer_in_the_citizens_language(olga, database):
    sent_before = inbound_count(database)

    olga.send("")
    assert "Я не получил ни одного слова" in olga.text
    assert len(olga.choices) == 8  # and the menu again, to carry on
    olga.send("🙂🙂🙂")
    assert "Я не получил ни одного слова" in olga.text
    olga.send("/frobnicate")
    assert "Я не знаю команду /frobnicate" in olga.text
    olga.send(event={"type": "unsupported", "kind": "sticker"})
    assert "Я не могу прочитать такое сообщение" in olga.text
    olga.send("Guten Tag, ich brauche Hilfe")  # a language the bot does not speak: no guess, a choice of topics
    assert "Что из этого подходит лучше?" in olga.text and not olga.handled.failed

    # every one of them is kept, and each answer is in Russian
    assert inbound_count(database) == sent_before + 5


def test_a_ten_thousand_character_message_is_kept_whole_and_answered(olga, database):
    long_text = ("Нет воды в доме уже неделю, помогите пожалуйста. " * 250)[:10_000]
    olga.send(long_text)
    assert "Я понял это так: Коммунальн" in olga.text
    olga.press(olga.choices[0])
    with session_scope(database) as session:
        stored = session.exec(select(Message).where(Message.direction == "in", Message.text == long_text)).one()
        assert len(stored.text) == 10_000
        request = session.exec(select(Request)).one()
        assert 0 < len(request.text) <= 4000


def test_an_unexpected_language_at_the_language_step_is_answered_in_every_language(engine):
    chat = Chat(engine, "hans", language_hint="de")
    chat.send("Hallo")
    chat.send("Deutsch")
    assert "Извините, я говорю только на этих языках" in chat.text and "Sorry, I can speak only these languages" in chat.text
    assert len(chat.choices) == 5


@pytest.mark.parametrize("typed, language", [("ўзбекча", "uz-Cyrl"), ("O'zbekcha", "uz"), ("2", "uz-Cyrl"), ("русский", "ru")])
def test_a_typed_language_picks_that_language_and_script(engine, database, typed, language):
    from storage.models import Citizen

    chat = Chat(engine, f"typist-{language}-{typed}")
    chat.send("/start")
    chat.send(typed)
    with session_scope(database) as session:
        assert {c.language for c in session.exec(select(Citizen))} == {language}


def test_the_language_can_be_typed_instead_of_pressed(engine):
    chat = Chat(engine, "pablo")
    chat.send("hola")
    chat.send("espanol")
    assert "¿Dónde vive? Elija su provincia o región." in chat.text


def test_two_messages_from_one_citizen_at_the_same_moment_are_both_kept_and_answered(olga, database):
    before = inbound_count(database)
    results = []
    barrier = threading.Barrier(2)

    def send(text):
        barrier.wait()
        results.append(olga.engine.handle(olga_message(olga, text)))

    threads = [threading.Thread(target=send, args=(t,)) for t in ("Нет света", "Помогите с пособием")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and all(r.replies and not r.failed for r in results)
    assert inbound_count(database) == before + 2


def test_many_citizens_writing_at_once_are_all_kept(engine, database):
    chats = [Chat(engine, f"c{i}") for i in range(12)]
    errors = []

    def talk(chat):
        try:
            for text in ("salom", "ozbekcha", "menyu"):
                chat.send(text)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=talk, args=(c,)) for c in chats]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert inbound_count(database) == 36


def olga_message(chat: Chat, text: str):
    import itertools

    from flows.messages import Incoming

    olga_message.ids = getattr(olga_message, "ids", itertools.count(10_000))
    return Incoming(channel=chat.channel, address=chat.address, text=text, external_id=f"{chat.user}-same-{next(olga_message.ids)}")


def test_a_staff_command_that_breaks_is_kept_for_a_person_and_apologised_for(engine, database, monkeypatch):
    from dataclasses import replace

    from handlers.staff.commands import COMMANDS
    from handlers.staff.team import add

    def broken(desk):
        raise RuntimeError("a bug in /inbox")

    with session_scope(database) as session:
        add(session, "console:karim", "caseworker", "utilities", "Karim")
    monkeypatch.setitem(COMMANDS, "inbox", replace(COMMANDS["inbox"], run=broken))
    karim = Chat(engine, "karim")
    karim.send("/inbox")  # nothing escapes the engine
    assert karim.handled.failed and "Sorry" in karim.text
    with session_scope(database) as session:
        [kept] = session.exec(select(Message).where(Message.direction == "in")).all()
        assert (kept.text, kept.status) == ("/inbox", "needs_attention") and "a bug in /inbox" in kept.error


def test_a_redelivered_message_is_recognised_at_once_and_is_no_error(engine, database, caplog):
    chat = Chat(engine, "twice")
    chat.send("hello", external_id="upd-1")
    with caplog.at_level("WARNING"):
        chat.send("hello", external_id="upd-1")
    assert chat.handled.duplicate and not chat.handled.failed
    ours = ("bot", "flows", "handlers", "storage", "notifications")
    assert [r.getMessage() for r in caplog.records if r.name.startswith(ours) and r.levelno >= 30] == []


def test_the_apology_is_in_the_citizens_language(olga, database, monkeypatch):
    import bot.engine

    def broken(*args):
        raise RuntimeError("a bug in a flow")

    monkeypatch.setattr(bot.engine, "respond", broken)
    olga.send("Нет света")
    assert olga.handled.failed and olga.text.startswith("Извините, у нас что-то пошло не так")


def test_writing_again_after_blocking_the_bot_lets_it_answer_again(olga, database):
    from storage.models import Identity

    with session_scope(database) as session:
        identity = session.get(Identity, olga.address)
        identity.blocked_at = identity.created_at
        session.add(identity)
    olga.send("меню")
    with session_scope(database) as session:
        assert session.get(Identity, olga.address).blocked_at is None
