"""One citizen on two channels: a Telegram user who shares their own contact
is linked with whoever writes from that number on WhatsApp, so "my
requests" shows everything, on both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select
from telegram import Bot, Update

from bot.engine import Engine
from handlers.telegram import to_incoming
from storage.db import session_scope
from storage.models import Citizen, Identity, Request
from tests.conversation import Chat
from tests.test_conversations import onboard

TELEGRAM_CONTACT = Path(__file__).parent / "fixtures" / "telegram" / "contact.json"


@pytest.fixture
def engine(database, catalog):
    return Engine(database, catalog)


def share_own_contact(chat: Chat, phone: str):
    return chat.send(attachments=(), event={"type": "own_contact", "phone": phone})


def codes(chat: Chat) -> set[str]:
    chat.send("menu")
    chat.press("My requests")
    return {c for c in chat.choices if "-" in c}


def test_telegram_marks_a_contact_as_own_only_when_it_is_the_senders():
    data = json.loads(TELEGRAM_CONTACT.read_text("utf-8"))
    own = to_incoming(Update.de_json(data, Bot("123456:TEST")))
    assert own.event == {"type": "own_contact", "phone": "+998901234567"}
    data["message"]["contact"]["user_id"] = 42  # a card of someone else, forwarded
    other = to_incoming(Update.de_json(data, Bot("123456:TEST")))
    assert other.event is None and other.attachments[0].kind == "contact"


def test_requests_from_both_channels_show_on_both_once_linked(engine, database):
    on_whatsapp = Chat(engine, "+998901234567", channel="whatsapp")
    onboard(on_whatsapp)
    on_whatsapp.send("No electricity in our street for three days")
    on_whatsapp.press("Yes, send it")
    on_telegram = Chat(engine, "5550101", channel="telegram")
    onboard(on_telegram)
    on_telegram.send("The road to the school is full of potholes")
    on_telegram.press("Yes, send it")
    assert len(codes(on_telegram)) == 1

    share_own_contact(on_telegram, "998901234567")  # as Telegram writes it, without the plus
    assert "linked with your WhatsApp number +998901234567" in on_telegram.text
    assert len(codes(on_telegram)) == 2
    assert codes(on_whatsapp) == codes(on_telegram)
    with session_scope(database) as session:
        assert len(session.exec(select(Citizen)).all()) == 1
        assert {i.address for i in session.exec(select(Identity))} == {"whatsapp:+998901234567", "telegram:5550101"}
        assert len({r.citizen_id for r in session.exec(select(Request))}) == 1


def test_a_number_nobody_writes_from_yet_is_kept_for_the_first_whatsapp_message(engine, database):
    on_telegram = Chat(engine, "5550102", channel="telegram")
    onboard(on_telegram, "Español")
    share_own_contact(on_telegram, "+54 9 221 555-0134")
    assert "vinculado con su número de WhatsApp +5492215550134" in on_telegram.text
    on_whatsapp = Chat(engine, "+5492215550134", channel="whatsapp")
    on_whatsapp.send("hola")
    assert "¿Qué desea hacer?" in on_whatsapp.text  # known already: no onboarding again
    with session_scope(database) as session:
        assert len(session.exec(select(Citizen)).all()) == 1


def test_an_argentine_contact_without_the_mobile_9_finds_the_whatsapp_citizen(engine, database):
    on_whatsapp = Chat(engine, "+5492215550134", channel="whatsapp")
    onboard(on_whatsapp, "Español")
    on_telegram = Chat(engine, "5550103", channel="telegram")
    on_telegram.send("hola")
    share_own_contact(on_telegram, "542215550134")
    with session_scope(database) as session:
        assert len(session.exec(select(Citizen)).all()) == 1
        assert session.get(Identity, "whatsapp:+542215550134") is None  # no second, unused address


def test_a_forwarded_contact_of_someone_else_links_nothing(engine, database):
    on_whatsapp = Chat(engine, "+998901234567", channel="whatsapp")
    onboard(on_whatsapp)
    stranger = Chat(engine, "5550104", channel="telegram")
    onboard(stranger)
    stranger.send_file("contact", ref="+998901234567")
    with session_scope(database) as session:
        assert len(session.exec(select(Citizen)).all()) == 2
