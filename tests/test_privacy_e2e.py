"""A citizen's own data, end to end: on Telegram the file arrives as a
document uploaded through the real python-telegram-bot stack (against the
Bot API emulator); on WhatsApp as a one-time link in a message sent through
the real twilio client, served by the real ASGI app. Then each forgets."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest
from sqlmodel import select

from bot.commands.run import serve
from bot.settings import Settings
from storage.db import make_engine, session_scope
from storage.models import Citizen, Identity
from tests.fake_twilio import PUBLIC_URL, Phone, fake_twilio, whatsapp_bot  # noqa: F401

CODE = re.compile(r"\b[2-9A-Z]{3}-[2-9A-Z]{3}\b")
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/mydata/[A-Za-z0-9_-]+)")


@pytest.fixture
async def running_bot(telegram_emulator, tmp_path):
    token = telegram_emulator.new_token()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'bot.sqlite3'}", telegram_bot_token=token,
        telegram_api_base_url=telegram_emulator.url, telegram_poll_interval=0.05,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, web=False, stop=stop))
    yield token, settings
    stop.set()
    await asyncio.wait_for(task, 15)


async def test_on_telegram_the_file_comes_as_a_document_and_forgetting_starts_afresh(telegram_emulator, running_bot):
    token, settings = running_bot
    ann = telegram_emulator.user(token, 7301, "Ann Lee", language_code="en")
    await ann.send("/start")
    await ann.wait_for(lambda m: any("Buenos Aires" in b for b in m.button_texts))  # greeted in her app's English
    await ann.press("Buenos Aires Province")
    districts = await ann.wait_for(lambda m: any("La Plata" in b for b in m.button_texts))
    await ann.press(next(b for b in districts.button_texts if "La Plata" in b))
    await ann.wait_for(lambda m: any("City Bell" in b for b in m.button_texts))
    await ann.press("City Bell")
    await ann.wait_for("Do you agree?")
    await ann.press("Yes, I agree")
    await ann.wait_for(lambda m: len(m.buttons) == 8)
    await ann.send("The street light on 14 and 470 has been off for a week")
    confirm = await ann.wait_for(lambda m: len(m.buttons) == 3)
    await ann.press(confirm.buttons[0]["text"])
    code = CODE.search((await ann.wait_for(lambda m: CODE.search(m.text or ""))).text).group(0)

    await ann.send("/mydata")
    summary = await ann.wait_for("This is what we keep about you")
    assert "Name: Ann Lee" in summary.text and f"• {code}" in summary.text and "Telegram ****" in summary.text
    await ann.press("📄 Send me the file")
    sent = await ann.wait_for(lambda m: "document" in m.raw)
    assert "JSON" in sent.text
    document = sent.raw["document"]
    assert document["file_name"].startswith("my-data-") and document["file_name"].endswith(".json")
    async with httpx.AsyncClient(base_url=telegram_emulator.url, trust_env=False) as client:
        found = (await client.post(f"/bot{token}/getFile", json={"file_id": document["file_id"]})).json()["result"]
        data = json.loads((await client.get(f"/file/bot{token}/{found['file_path']}")).content)
    assert data["citizen"]["name"] == "Ann Lee" and data["channels"][0]["address"] == "telegram:7301"
    assert data["requests"][0]["code"] == code and "14 and 470" in data["requests"][0]["text"]

    await ann.send("forget me")
    question = await ann.wait_for("Shall we delete your data?")
    await ann.press("🗑 Yes, delete my data")
    await ann.wait_for("your personal data has been deleted")
    await ann.send("hello")
    await ann.wait_for("Hello! I am onewindow")  # a newcomer again

    database = make_engine(settings.database)
    with session_scope(database) as session:
        erased = session.exec(select(Citizen).where(Citizen.erased_at.is_not(None))).one()
        assert erased.display_name is None
        assert session.get(Identity, "telegram:7301").citizen_id != erased.id
    database.dispose()
    assert question.button_texts == ["🗑 Yes, delete my data", "No, keep it"]


@pytest.fixture
async def whatsapp(database_url, fake_twilio):  # noqa: F811
    async with whatsapp_bot(database_url, fake_twilio) as bot:
        yield bot


async def test_on_whatsapp_the_file_comes_behind_a_link_that_works_once(whatsapp):
    rosa = Phone(whatsapp, "+5492215550134", "Rosa Giménez")
    await rosa.onboard("4", -34.8722, -58.0453)
    screen = await rosa.send("Se cortó la luz en Calle 14 y 470 desde el lunes")
    screen = await rosa.send("1")
    code = CODE.search(screen).group(0)

    screen = await rosa.send("mis datos")
    assert "Nombre: Rosa Giménez" in screen and "WhatsApp +54922****134" in screen and "+5492215550134" not in screen
    assert f"• {code}" in screen and "1. 📄 Enviarme el archivo" in screen
    screen = await rosa.send("1")
    link = LINK.search(screen)
    assert link and "una sola vez, durante una hora" in screen

    response = await whatsapp.http.get(link.group(1))
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"].startswith('attachment; filename="my-data-')
    data = response.json()
    assert data["citizen"]["name"] == "Rosa Giménez" and "Calle 14 y 470" in data["requests"][0]["text"]
    again = await whatsapp.http.get(link.group(1))
    assert again.status_code == 404 and "/mydata" in again.text
    assert (await whatsapp.http.get("/mydata/forged-token")).status_code == 404

    screen = await rosa.send("borrar mis datos")
    assert "¿Borramos sus datos?" in screen
    assert "borramos sus datos personales" in await rosa.send("1")
    screen = await rosa.send("Hola")
    assert "¡Hola! Soy onewindow" in screen  # a newcomer again
    assert whatsapp.twilio.problems == []
