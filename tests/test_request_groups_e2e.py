"""Duplicates at intake end to end, through the Telegram emulator and
``onewindow run``'s own code: two neighbours report one problem, staff
answer the group's first, and both hear the answer."""

from __future__ import annotations

from sqlmodel import select

from bot.wiring import open_store
from handlers.staff.team import add as add_staff
from storage.db import session_scope
from storage.models import Request
from tests.test_telegram_e2e import CODE, running_bot  # noqa: F401


async def _citizen_on_telegram(telegram_emulator, token: str, user_id: int, name: str, greeting: str):
    citizen = telegram_emulator.user(token, user_id, name, language_code="ru")
    await citizen.send(greeting)
    await citizen.wait_for(lambda m: any("🌐" in b for b in m.button_texts))
    await citizen.share_location(40.4897, 68.7842)
    consent = await citizen.wait_for(lambda m: len(m.buttons) == 2)
    await citizen.press(consent.buttons[0]["text"])
    await citizen.wait_for(lambda m: len(m.buttons) == 8)
    return citizen


async def test_telegram_neighbours_reports_are_one_case_and_a_reply_reaches_both(telegram_emulator, running_bot):  # noqa: F811
    token, settings = running_bot
    database = open_store(settings.database)
    with session_scope(database) as session:
        add_staff(session, "telegram:7302", "supervisor", None, "Sara")
    codes = []
    for user_id, name, words in ((7301, "Olga", "Нет воды на нашей улице уже три дня"), (7303, "Ivan", "На улице нет воды с понедельника")):
        citizen = await _citizen_on_telegram(telegram_emulator, token, user_id, name, "Здравствуйте")
        await citizen.send(words)
        confirm = await citizen.wait_for(lambda m: len(m.buttons) == 3)
        await citizen.press(confirm.buttons[0]["text"])
        ack = await citizen.wait_for(lambda m: CODE.search(m.text or ""))
        codes.append(CODE.search(ack.text).group(0))
    with session_scope(database) as session:
        stored = {r.code: r.group_id for r in session.exec(select(Request))}
    assert stored[codes[0]] is None and stored[codes[1]] is not None

    sara = telegram_emulator.user(token, 7302, "Sara", language_code="en")
    await sara.send(f"/reply {codes[0]} Бригада чинит трубу сегодня")
    await sara.wait_for("Also sent to the other reporter of the group")
    for user_id, code in ((7301, codes[0]), (7303, codes[1])):
        citizen = telegram_emulator.user(token, user_id, "x", language_code="ru")
        reply = await citizen.wait_for("Бригада чинит трубу сегодня")
        assert code in reply.text
    database.dispose()
