"""End to end on Telegram: the real python-telegram-bot application, started
by ``onewindow run``'s own code, against a Bot API emulator over HTTP."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlmodel import select

from bot.commands.run import serve
from bot.settings import Settings
from storage.db import make_engine, session_scope
from storage.models import Message, Request

CODE = re.compile(r"\b[2-9A-Z]{3}-[2-9A-Z]{3}\b")


@pytest.fixture
async def running_bot(telegram_emulator, tmp_path):
    """``onewindow run`` with Telegram pointed at the emulator."""
    token = telegram_emulator.new_token()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        telegram_bot_token=token,
        telegram_api_base_url=telegram_emulator.url,
        telegram_poll_interval=0.05,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, web=False, stop=stop))
    yield token, settings
    stop.set()
    await asyncio.wait_for(task, 15)


async def test_a_citizen_files_a_request_and_asks_its_status(telegram_emulator, running_bot):
    token, settings = running_bot
    dilnoza = telegram_emulator.user(token, 7001, "Dilnoza", language_code="uz")

    await dilnoza.send("/start")
    languages = await dilnoza.wait_for("Tilni tanlang")
    assert languages.button_texts == ["O'zbekcha", "Ўзбекча", "Русский", "Español", "English"]

    await dilnoza.press("O'zbekcha")
    await dilnoza.wait_for(lambda m: any("Sirdaryo" in b for b in m.button_texts))
    await dilnoza.press("Sirdaryo viloyati")
    await dilnoza.wait_for(lambda m: any("Guliston" in b for b in m.button_texts))
    await dilnoza.press("Guliston tumani")
    villages = await dilnoza.wait_for(lambda m: len(m.buttons) > 2)
    await dilnoza.press(villages.button_texts[0])
    await dilnoza.wait_for(lambda m: "yes" in str(m.reply_markup))
    consent = (await dilnoza.messages())[-1]
    await dilnoza.press(consent.buttons[0]["text"])
    await dilnoza.wait_for(lambda m: len(m.buttons) == 6)  # the main menu

    await dilnoza.send("Mahallamizda uch kundan beri svet yo'q, elektr tarmog'i buzilgan")
    confirm = await dilnoza.wait_for(lambda m: len(m.buttons) == 3)
    assert "Kommunal" in confirm.text or "kommunal" in confirm.text
    await dilnoza.press(confirm.buttons[0]["text"])
    ack = await dilnoza.wait_for(lambda m: CODE.search(m.text or ""))

    database = make_engine(settings.database)
    with session_scope(database) as session:
        request = session.exec(select(Request)).one()
        assert request.category_id == "utilities" and request.channel == "telegram"
        assert request.address == "telegram:7001"
    assert request.code in ack.text

    await dilnoza.send(f"{request.code.lower()} holati qanday?")
    status = await dilnoza.wait_for(request.code)
    assert "Holat" in status.text or "holat" in status.text

    with session_scope(database) as session:
        inbound = session.exec(select(Message).where(Message.direction == "in")).all()
        outbound = session.exec(select(Message).where(Message.direction == "out")).all()
    assert all(m.status == "processed" for m in inbound)
    assert all(m.status == "sent" and m.external_id for m in outbound)
    database.dispose()
