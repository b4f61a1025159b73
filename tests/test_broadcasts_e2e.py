"""Announcements end to end: on Telegram (through the emulator and
``onewindow run``'s own code, scheduler and outbox) a supervisor announces
a bazaar day to a village and its channel; on WhatsApp (signed Twilio
webhooks) a supervisor announces to La Plata, and a number that never wrote
gets the approved ``broadcast`` template — or waits, with the reason, when
there is none."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlmodel import select

from bot.wiring import open_store
from handlers.staff.team import add as add_staff
from notifications.broadcasts import write_due
from storage.db import session_scope
from storage.models import Message
from tests.fake_twilio import TEMPLATES, Phone, fake_twilio, whatsapp_bot  # noqa: F401
from tests.test_telegram_e2e import running_bot  # noqa: F401

LA_PLATA = (-34.9214, -57.9544)
CHANNEL = -1001234567890


async def test_telegram_a_bazaar_day_announced_reaches_the_village_in_its_language_and_its_channel_once(telegram_emulator, running_bot):  # noqa: F811
    token, settings = running_bot
    database = open_store(settings.database)
    with session_scope(database) as session:
        add_staff(session, "telegram:7302", "supervisor", None, "Sara")
    olga = telegram_emulator.user(token, 7301, "Olga", language_code="ru")
    await olga.send("Здравствуйте")
    await olga.wait_for(lambda m: any("🌐" in b for b in m.button_texts))
    await olga.share_location(40.4897, 68.7842)
    consent = await olga.wait_for(lambda m: len(m.buttons) == 2)
    await olga.press(consent.buttons[0]["text"])
    await olga.wait_for(lambda m: len(m.buttons) == 8)

    sara = telegram_emulator.user(token, 7302, "Sara", language_code="en")
    await sara.send(f"/channels add {CHANNEL} Guliston — Guliston news")
    await sara.wait_for("now gets the announcements")
    await sara.send("/broadcast place Guliston, channels Guliston | uz: Ertaga bozor kuni | ru: Завтра базарный день | fallback uz | urgent")
    preview = await sara.wait_for("a draft, nothing is sent yet")
    assert "Reaches: 2 (channels 1, ru 1)" in preview.text
    number = re.search(r"#(\d+)", preview.text).group(1)
    await sara.send(f"/broadcast confirm {number}")
    await sara.wait_for(f"Announcement #{number} confirmed")

    await olga.wait_for("Завтра базарный день", timeout=20)
    for _ in range(100):
        posts = [c for c in await telegram_emulator.calls(token, "sendMessage") if str(c["params"].get("chat_id")) == str(CHANNEL)]
        if posts:
            break
        await asyncio.sleep(0.2)
    assert [p["params"]["text"] for p in posts] == ["Ertaga bozor kuni"]

    # The channel may have the post a moment before the outbox records it as sent: ask again until it has.
    for _ in range(50):
        await sara.send(f"/broadcast status {number}")
        status = await sara.wait_for("Written to the outbox: 2")
        if "sent 2" in status.text or "delivered 2" in status.text:
            break
        await asyncio.sleep(0.1)
    assert "sent 2" in status.text or "delivered 2" in status.text
    await asyncio.sleep(1)  # the scheduler runs again meanwhile: nothing more is written or sent
    posts = [c for c in await telegram_emulator.calls(token, "sendMessage") if str(c["params"].get("chat_id")) == str(CHANNEL)]
    assert len(posts) == 1
    database.dispose()


@pytest.fixture
async def bot(database_url, fake_twilio):  # noqa: F811
    async with whatsapp_bot(database_url, fake_twilio) as bot:
        yield bot


@pytest.fixture
async def bot_with_broadcast_template(database_url, fake_twilio):  # noqa: F811
    async with whatsapp_bot(database_url, fake_twilio, templates={**TEMPLATES, "broadcast": "HX" + "c3" * 16}) as bot:
        yield bot


def last_reply(bot, address: str) -> str:
    """What the desk last answered (the staff's replies go out with the webhook's own round)."""
    with session_scope(bot.database) as session:
        return session.exec(select(Message.text).where(Message.address == address, Message.direction == "out")
                            .order_by(Message.id.desc())).first()


async def announce_over_whatsapp(bot, line: str) -> str:
    with session_scope(bot.database) as session:
        add_staff(session, "whatsapp:+5491100000001", "supervisor", None, "Sara")
    sara = Phone(bot, "+5491100000001", "Sara")
    await sara.send(line)
    preview = last_reply(bot, sara.address)
    number = re.search(r"#(\d+)", preview).group(1)
    await sara.send(f"/broadcast confirm {number}")
    assert "confirmed" in last_reply(bot, sara.address)
    write_due(bot.database, bot.bot.engine.catalog)
    return preview


async def test_whatsapp_an_announcement_reaches_la_plata_in_spanish_and_a_stranger_waits_for_a_template(bot):
    rosa = Phone(bot, "+5492215550134", "Rosa")
    await rosa.onboard("4", *LA_PLATA)
    preview = await announce_over_whatsapp(bot, "/broadcast place La Plata, numbers +5491144445555 | es: El sábado vacunación en la plaza. | urgent")
    assert "Reaches: 2" in preview
    delivered = await bot.deliver()
    assert [(r.to, r.body) for r in delivered] == [(rosa.address, "El sábado vacunación en la plaza.")]
    with session_scope(bot.database) as session:
        stranger = session.exec(select(Message).where(Message.address == "whatsapp:+5491144445555")).one()
        assert stranger.status == "held" and "no template for 'broadcast'" in stranger.error


async def test_whatsapp_a_number_that_never_wrote_gets_the_approved_broadcast_template(bot_with_broadcast_template):
    bot = bot_with_broadcast_template
    await announce_over_whatsapp(bot, "/broadcast numbers +5491144445555 | es: El sábado vacunación en la plaza. | urgent")
    (sent,) = await bot.deliver()
    assert sent.to == "whatsapp:+5491144445555" and sent.form["ContentSid"] == "HX" + "c3" * 16
    assert "El sábado vacunación en la plaza." in sent.form["ContentVariables"] and not sent.problems
