"""STOP and START: a citizen who opts out gets no more announcements on any
channel until they opt back in, yet answers about their own requests still
reach them. Both are confirmed in their language."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.message_rows import outbound_values
from flows.messages import Outgoing
from storage.db import session_scope
from storage.models import Citizen, Identity, Message
from tests.conversation import Chat
from tests.fake_twilio import Phone, fake_twilio, whatsapp_bot  # noqa: F401
from tests.test_conversations import onboard

LA_PLATA, GULISTAN = (-34.9214, -57.9544), (40.4897, 68.7842)


@pytest.fixture
async def bot(database_url, fake_twilio):  # noqa: F811
    async with whatsapp_bot(database_url, fake_twilio) as bot:
        yield bot


def opted_out(database, address: str) -> bool:
    with session_scope(database) as session:
        citizen = session.get(Citizen, session.get(Identity, address).citizen_id)
        return citizen.broadcasts_opted_out_at is not None


def queue(database, address: str, text: str, template: str, request_id: int | None = None) -> int:
    with session_scope(database) as session:
        citizen_id = session.get(Identity, address).citizen_id
        row = Message(**outbound_values(Outgoing(address, text, template=template), citizen_id, request_id))
        session.add(row)
        session.flush()
        return row.id


@pytest.mark.parametrize("language, place, word, confirmation", [
    ("4", LA_PLATA, "BAJA", "ya no recibirá nuestros avisos"),
    ("5", LA_PLATA, "Stop", "you will no longer receive our announcements"),
    ("3", GULISTAN, "СТОП", "вы больше не будете получать наши объявления"),
    ("1", GULISTAN, "to'xtat", "endi bizning e'lonlarimizni olmaysiz"),
    ("2", GULISTAN, "ТЎХТАТ", "энди бизнинг эълонларимизни олмайсиз"),
])
async def test_stop_on_whatsapp_in_every_language_is_confirmed_in_it(bot, language, place, word, confirmation):
    citizen = Phone(bot, "+5492215550134", "Rosa")
    await citizen.onboard(language, *place)
    assert confirmation in await citizen.send(word)
    assert opted_out(bot.database, citizen.address)


async def test_after_stop_announcements_stop_but_answers_about_her_requests_still_arrive(bot):
    rosa = Phone(bot, "+5492215550134", "Rosa")
    await rosa.onboard("4", *LA_PLATA)
    await rosa.send("BAJA")
    announcement = queue(bot.database, rosa.address, "El sábado vacunación en la plaza.", "broadcast")
    answer = queue(bot.database, rosa.address, "Su trámite está listo para retirar.", "reply")
    bodies = [r.body for r in await bot.deliver()]
    assert bodies == ["Su trámite está listo para retirar."]
    with session_scope(bot.database) as session:
        dropped = session.get(Message, announcement)
        assert (dropped.status, dropped.error) == ("skipped", "the citizen opted out of announcements")
        assert session.get(Message, answer).status == "sent"


async def test_alta_opts_her_back_in_and_announcements_flow_again(bot):
    rosa = Phone(bot, "+5492215550134", "Rosa")
    await rosa.onboard("4", *LA_PLATA)
    await rosa.send("BAJA")
    screen = await rosa.send("ALTA")
    assert "volverá a recibir nuestros avisos" in screen and "1. 📝 Nueva solicitud" in screen
    assert not opted_out(bot.database, rosa.address)
    queue(bot.database, rosa.address, "El sábado vacunación en la plaza.", "broadcast")
    assert [r.body for r in await bot.deliver()] == ["El sábado vacunación en la plaza."]


async def test_start_opts_in_only_a_citizen_who_opted_out_otherwise_it_is_the_menu(bot):
    rosa = Phone(bot, "+5492215550134", "Rosa")
    await rosa.onboard("5", *LA_PLATA)
    screen = await rosa.send("START")
    assert "receive our announcements again" not in screen and "1. 📝 New request" in screen
    await rosa.send("STOP")
    screen = await rosa.send("START")
    assert "you will receive our announcements again" in screen and "1. 📝 New request" in screen


async def test_a_newcomers_first_word_can_be_baja_and_she_is_answered_in_spanish(bot):
    stranger = Phone(bot, "+5491144445555", "")
    assert "ya no recibirá nuestros avisos" in await stranger.send("baja")
    assert opted_out(bot.database, stranger.address)
    assert "¡Hola! Soy onewindow" in await stranger.send("hola")  # then onboarding as usual


async def test_stop_in_the_middle_of_a_request_keeps_her_place(bot):
    rosa = Phone(bot, "+5492215550134", "Rosa")
    await rosa.onboard("4", *LA_PLATA)
    assert "¿Es correcto?" in await rosa.send("Hace una semana que no pasa el camión de la basura")
    assert "ya no recibirá" in await rosa.send("baja")
    assert "Su solicitud quedó registrada." in await rosa.send("1")  # the "1" still answers "is that right?"


@pytest.fixture
def engine(database, catalog):
    return Engine(database, catalog)


def test_slash_stop_and_slash_start_on_telegram(engine, database):
    ali = Chat(engine, "7001", channel="telegram")
    onboard(ali, "Русский")
    ali.send("/stop")
    assert "вы больше не будете получать наши объявления" in ali.text
    with session_scope(database) as session:
        assert session.exec(select(Citizen)).one().broadcasts_opted_out_at is not None
    ali.send("/start")
    assert "вы снова будете получать наши объявления" in ali.text and len(ali.choices) == 8
    with session_scope(database) as session:
        assert session.exec(select(Citizen)).one().broadcasts_opted_out_at is None
