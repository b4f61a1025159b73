"""Whole WhatsApp conversations, end to end: signed Twilio webhooks into the
real ASGI app, the engine and the store (SQLite and PostgreSQL), and the
replies out through the outbox and the real twilio client to the loopback
fake Twilio. What the citizen reads is what Twilio was asked to send her."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.message_rows import outbound_values
from flows.messages import Outgoing
from storage.db import session_scope
from storage.models import Conversation, Message, Request, utcnow
from tests.fake_twilio import TEMPLATES, Phone, fake_twilio, whatsapp_bot  # noqa: F401

CODE = re.compile(r"\b[2-9A-Z]{3}-[2-9A-Z]{3}\b")


@pytest.fixture
async def bot(database_url, fake_twilio):  # noqa: F811
    async with whatsapp_bot(database_url, fake_twilio) as bot:
        yield bot


async def test_rosa_files_a_request_with_a_photo_follows_it_and_gets_the_answer_a_day_later(bot):
    rosa = Phone(bot, "+5492215550134", "Rosa Giménez")

    # Onboarding, answering the numbered lists with numbers and with misspelt words.
    greeting = await rosa.send("Hola")  # Spanish words, an Argentine number: greeted in Spanish
    assert "¡Hola! Soy onewindow" in greeting and "3. Provincia de Buenos Aires" in greeting and "4. 🌐 Otro idioma" in greeting
    assert "1. Partido de La Plata" in await rosa.send("buenos aries")
    assert "2. City Bell" in await rosa.send("la plta")
    assert "¿Está de acuerdo?" in await rosa.send("1")
    assert "1. 📝 Nueva solicitud" in await rosa.send("si")

    # A request with a photo, confirmed, and its tracking code.
    assert "Entendí que se trata de: Calles, caminos y transporte" in await rosa.send("Así está la calle, lleno de baches desde el lunes", "image")
    screen = await rosa.send("sí, enviar")
    assert "Su solicitud quedó registrada." in screen
    code = CODE.search(screen).group(0)
    with session_scope(bot.database) as session:
        request = session.exec(select(Request).where(Request.code == code)).one()
        assert (request.channel, request.address) == ("whatsapp", rosa.address) and "la-plata" in request.locality_id
        assert request.attachments[0]["kind"] == "photo" and request.attachments[0]["ref"].startswith("https://api.twilio.com/")

    # She checks on it with the code, written her own way.
    screen = await rosa.send(f"hola, cómo va lo mío? {code.lower().replace('-', ' ')}")
    assert f"Solicitud {code}" in screen and "Estado: recibida" in screen

    # A day and a half later the department answers: the window is closed, so the approved template goes.
    with session_scope(bot.database) as session:
        conversation = session.get(Conversation, rosa.address)
        conversation.last_inbound_at = utcnow() - timedelta(hours=36)
        answer = Outgoing(rosa.address, f"Sobre {code}: la cuadrilla repara la línea el jueves.",
                          template="reply", template_variables={"1": code, "2": "la cuadrilla repara la línea el jueves."})
        session.add(Message(**outbound_values(answer, request.citizen_id, request.id)))
    await rosa.receive()
    [template] = rosa.read
    assert template.form["ContentSid"] == TEMPLATES["reply"] and "Body" not in template.form
    assert json.loads(template.form["ContentVariables"]) == {"1": code, "2": "la cuadrilla repara la línea el jueves."}

    # Twilio reports it delivered, then read.
    for status in ("delivered", "read"):
        report = bot.twilio.webhook("status_delivered", MessageSid=template.sid, SmsSid=template.sid, MessageStatus=status, SmsStatus=status, To=rosa.address)
        assert (await bot.post("/whatsapp/status", report)).status_code == 200
    with session_scope(bot.database) as session:
        assert session.exec(select(Message).where(Message.external_id == template.sid)).one().status == "read"

    # She taps the template's button: the window is open again and the menu understands her.
    screen = await rosa.send(fixture="button", ButtonText="Ver mis solicitudes", ButtonPayload="mine")
    assert f"• {code} — Calles, caminos y transporte" in screen
    assert "ContentSid" not in rosa.read[0].form  # free-form again
    assert bot.twilio.problems == []


async def test_dilnoza_onboards_by_location_and_a_voice_note_reaches_a_person(bot):
    dilnoza = Phone(bot, "+998901234567", "Дилноза 🌸")
    greeting = await dilnoza.send("Ассалому алайкум! 💡 Маҳалламизда свет йўқ 😞", "unicode")
    assert "Ассалому алайкум! Мен onewindow" in greeting and "Сирдарё" in greeting  # her script, no list to pick from
    screen = await dilnoza.send("", "location", Latitude="40.4897", Longitude="68.7842", Address="Guliston", Label="")
    assert "Гулистон" in screen
    # Consent; the message she wrote first is taken as her request, and confirmed.
    assert "Коммунал хизматлар" in await dilnoza.send("1")
    assert CODE.search(await dilnoza.send("1"))

    screen = await dilnoza.send("", "voice")
    assert "1." in screen and "овозли" in screen.lower()  # a person will listen; choose the topic
    screen = await dilnoza.send("1")
    code = CODE.search(screen).group(0)
    with session_scope(bot.database) as session:
        request = session.exec(select(Request).where(Request.code == code)).one()
        assert request.attachments[0]["kind"] == "voice" and request.attachments[0]["mime_type"] == "audio/ogg"
        flagged = session.exec(select(Message).where(Message.request_id == request.id, Message.direction == "in")).one()
        assert (flagged.status, flagged.error) == ("needs_attention", "voice note")
    assert bot.twilio.problems == []
