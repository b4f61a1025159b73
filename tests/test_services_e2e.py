"""Service questions end to end: through the Telegram emulator with
``onewindow run``'s own code, and through signed Twilio webhooks on WhatsApp
(SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import pytest  # noqa: F401
from sqlmodel import select

from storage.db import session_scope
from storage.models import Request
from tests.fake_twilio import Phone, fake_twilio, whatsapp_bot  # noqa: F401
from tests.test_telegram_e2e import running_bot  # noqa: F401


async def test_telegram_a_question_is_answered_and_not_what_i_need_files_it(telegram_emulator, running_bot):  # noqa: F811
    token, _ = running_bot
    aziz = telegram_emulator.user(token, 7101, "Aziz", language_code="en")
    await aziz.send("/start")
    await aziz.wait_for("Where do you live?")  # his app is in English
    await aziz.share_location(40.4897, 68.7842)
    consent = await aziz.wait_for(lambda m: len(m.buttons) == 2)
    await aziz.press(consent.buttons[0]["text"])
    menu = await aziz.wait_for(lambda m: len(m.buttons) == 8)
    assert "🏛 Services" in menu.button_texts and "🚐 Mobile office visits" in menu.button_texts

    await aziz.send("what do I need for a travel pasport?")  # a typo
    answer = await aziz.wait_for("What to bring:")
    assert "Travel passport" in answer.text and "my.gov.uz" in answer.text
    await aziz.press("🙅 Not what I need")
    confirm = await aziz.wait_for(lambda m: "send" in str(m.reply_markup).lower())
    await aziz.press(confirm.buttons[0]["text"])
    await aziz.wait_for("Tracking code")


@pytest.fixture
async def bot(database_url, fake_twilio):  # noqa: F811
    async with whatsapp_bot(database_url, fake_twilio) as bot:
        yield bot


def number_of(screen: str, label: str) -> str:
    return re.search(rf"(\d+)\. {re.escape(label)}", screen).group(1)


async def test_whatsapp_a_question_in_spanish_gets_one_screen_and_no_request(bot):
    rosa = Phone(bot, "+5492215550177", "Rosa")
    await rosa.send("Hola")  # greeted in Spanish
    await rosa.send("buenos aires")
    await rosa.send("la plata")
    assert "¿Está de acuerdo?" in await rosa.send("1")
    await rosa.send("si")

    screen = await rosa.send("¿qué necesito para la tarjeta alimentaria?")
    assert "Qué llevar:" in screen and "DNI" in screen and "Costo: gratuito" in screen
    with session_scope(bot.database) as session:
        assert session.exec(select(Request)).all() == []

    screen = await rosa.send(number_of(screen, "🙅 No es lo que busco"))
    assert "✅ Sí, enviar" in screen  # the request flow, her words already taken down
    assert "Su solicitud quedó registrada." in await rosa.send("sí, enviar")
    with session_scope(bot.database) as session:
        [request] = session.exec(select(Request)).all()
        assert request.text == "¿qué necesito para la tarjeta alimentaria?"
    assert bot.twilio.problems == []
