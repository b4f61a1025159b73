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
    await dilnoza.wait_for("Assalomu alaykum! Men onewindow")  # her app is in Uzbek
    regions = await dilnoza.wait_for(lambda m: any("Sirdaryo" in b for b in m.button_texts))
    assert "🌐 Boshqa til" in regions.button_texts
    await dilnoza.press("Sirdaryo viloyati")
    await dilnoza.wait_for(lambda m: any("Guliston" in b for b in m.button_texts))
    await dilnoza.press("Guliston tumani")
    villages = await dilnoza.wait_for(lambda m: len(m.buttons) > 2)
    await dilnoza.press(villages.button_texts[0])
    await dilnoza.wait_for(lambda m: "yes" in str(m.reply_markup))
    consent = (await dilnoza.messages())[-1]
    await dilnoza.press(consent.buttons[0]["text"])
    await dilnoza.wait_for(lambda m: len(m.buttons) == 8)  # the main menu

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
    assert all(m.status == "processed" for m in inbound)
    # The citizen may see a message a moment before the outbox records it as sent.
    outbound = await _settled(database)
    assert all(m.status == "sent" and m.external_id for m in outbound)
    database.dispose()


async def test_a_caseworker_works_a_request_with_the_citizen_on_telegram(telegram_emulator, running_bot):
    token, settings = running_bot
    from handlers.staff.team import add
    from storage.models import RequestEvent

    database = make_engine(settings.database)
    with session_scope(database) as session:
        add(session, "telegram:7201", "caseworker", "utilities", "Karim")
    citizen = telegram_emulator.user(token, 7202, "Dilnoza", language_code="uz")
    karim = telegram_emulator.user(token, 7201, "Karim", language_code="ru")

    await citizen.send("/start")
    await citizen.wait_for("Qayerda yashaysiz?")  # greeted in her app's Uzbek
    await citizen.press("🌐 Boshqa til")
    await citizen.wait_for("Tilni tanlang")
    await citizen.press("English")
    await citizen.wait_for("Where do you live?")
    await citizen.share_location(40.4897, 68.7842)
    consent = await citizen.wait_for(lambda m: len(m.buttons) == 2)
    await citizen.press(consent.buttons[0]["text"])
    await citizen.wait_for(lambda m: len(m.buttons) == 8)
    await citizen.send("No electricity in our street for three days")
    confirm = await citizen.wait_for("Is that right?")
    await citizen.press(confirm.buttons[0]["text"])
    ack = await citizen.wait_for("Tracking code")
    code = CODE.search(ack.text).group(0)

    await karim.send("/inbox")
    # The department's digest may name the code too; the inbox lists each request as a button.
    await karim.wait_for(lambda m: code in m.button_texts)
    await karim.send(f"/take {code.lower()}")
    await karim.wait_for(f"You have taken {code}")
    await citizen.wait_for(f"Your request {code} has been taken")

    await karim.send(f"/reply {code} A team comes tomorrow morning.")
    reply = await citizen.wait_for("A team comes tomorrow morning.")
    assert "Karim" not in reply.text

    await karim.send(f"/ask {code} Which house number?")
    await citizen.wait_for("Which house number?")
    await citizen.send("Number 12")
    await karim.wait_for("Number 12")

    await karim.send(f"/close {code} The line was repaired.")
    question = await citizen.wait_for(f"Was your request {code} resolved?")
    await citizen.press(question.buttons[0]["text"])
    stars = await citizen.wait_for(lambda m: len(m.buttons) == 5)
    await citizen.press(stars.buttons[4]["text"])
    await citizen.wait_for("add a comment")
    await citizen.send("Thank you, quick work")
    await citizen.wait_for("Thank you for your answer")

    await citizen.send(f"/close {code} hacked")
    await citizen.wait_for("only for the service's staff")

    with session_scope(database) as session:
        request = session.exec(select(Request).where(Request.code == code)).one()
        assert (request.status, request.rating, request.rating_comment) == ("closed", 5, "Thank you, quick work")
        kinds = [e.kind for e in session.exec(select(RequestEvent).where(RequestEvent.request_id == request.id).order_by(RequestEvent.id))]
        refused = session.exec(select(Message).where(Message.status == "refused")).one()
    assert kinds == ["created", "assign", "status", "reply", "status", "citizen_answer", "status", "status", "rating", "rating"]
    assert refused.address == "telegram:7202"
    database.dispose()


async def _settled(database, timeout: float = 10.0) -> list[Message]:
    """The outbound rows, once none is still queued or being sent."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        with session_scope(database) as session:
            rows = session.exec(select(Message).where(Message.direction == "out")).all()
        if all(m.status not in ("queued", "sending") for m in rows) or asyncio.get_running_loop().time() > deadline:
            return rows
        await asyncio.sleep(0.05)
