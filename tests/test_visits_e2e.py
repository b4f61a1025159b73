"""Visits end to end: a supervisor plans one on Telegram (through the
emulator and ``onewindow run``'s own code) and the subscribed citizen hears
of it, asks in Russian and books; on WhatsApp, through signed Twilio
webhooks, a citizen in La Plata asks in Spanish and books by number."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest  # noqa: F401
from sqlmodel import select

from bot.catalog import Catalog
from bot.visit_planning import add as plan_visit, find_place
from bot.wiring import open_store
from handlers.staff.team import add as add_staff
from storage.db import session_scope
from storage.models import Booking, Citizen, Identity, Message, utcnow
from tests.fake_twilio import Phone, fake_twilio, whatsapp_bot  # noqa: F401
from tests.test_telegram_e2e import running_bot  # noqa: F401


def _let_the_morning_come(database, address: str) -> None:
    """Announcements wait out the night in the recipient's place (21:00-08:00).
    When this test runs at night there, the subscriber's notice is held until
    08:00: make that hour now, as the clock would."""
    with session_scope(database) as session:
        for message in session.exec(select(Message).where(Message.address == address, Message.status == "queued",
                                                          Message.next_attempt_at > utcnow())):
            message.next_attempt_at = utcnow()
            session.add(message)


def _locality(database, address: str) -> str:
    with session_scope(database) as session:
        identity = session.get(Identity, address)
        return session.get(Citizen, identity.citizen_id).locality_id


async def test_telegram_a_visit_planned_on_telegram_reaches_a_subscriber_who_books(telegram_emulator, running_bot):  # noqa: F811
    token, settings = running_bot
    database = open_store(settings.database)
    with session_scope(database) as session:
        add_staff(session, "telegram:7202", "supervisor", None, "Sara")
    olga = telegram_emulator.user(token, 7201, "Olga", language_code="ru")
    await olga.send("Здравствуйте")
    await olga.wait_for(lambda m: any("🌐" in b for b in m.button_texts))
    await olga.share_location(40.4897, 68.7842)
    consent = await olga.wait_for(lambda m: len(m.buttons) == 2)
    await olga.press(consent.buttons[0]["text"])
    await olga.wait_for(lambda m: len(m.buttons) == 8)
    await olga.send("Когда приедет выездная бригада?")
    await olga.wait_for("выездов пока нет")
    await olga.press("🔔 Сообщать о каждом выезде")
    await olga.wait_for("Готово: я буду сообщать")

    village = _locality(database, "telegram:7201")
    day = (datetime.now(timezone(timedelta(hours=5))) + timedelta(days=4)).strftime("%Y-%m-%d")
    sara = telegram_emulator.user(token, 7202, "Sara", language_code="en")
    await sara.send(f"/visit add {village} {day} 09:00-13:00 uz-id-card-first,uz-birth-cert-copy limit 10")
    await sara.wait_for("1 person told")
    _let_the_morning_come(database, "telegram:7201")  # planned at night in the village: the notice waits for 08:00
    notice = await olga.wait_for("Мобильный офис приедет")
    assert "09:00–13:00" in notice.text

    await olga.send("выездная бригада когда?")
    visits = await olga.wait_for(lambda m: any("Записаться" in b for b in m.button_texts))
    await olga.press(next(b for b in visits.button_texts if "Записаться" in b))
    services = await olga.wait_for(lambda m: any("осталось" in b for b in m.button_texts))
    await olga.press(services.button_texts[0])
    booked = await olga.wait_for("Ваш номер 1")
    assert "Возьмите с собой" in booked.text
    database.dispose()


@pytest.fixture
async def bot(database_url, fake_twilio):  # noqa: F811
    async with whatsapp_bot(database_url, fake_twilio) as bot:
        yield bot


def number_of(screen: str, label: str) -> str:
    return re.search(rf"(\d+)\. [^\n]*{re.escape(label)}", screen).group(1)


async def test_whatsapp_a_citizen_asks_in_spanish_and_books_a_place_by_number(bot):
    rosa = Phone(bot, "+5492215550188", "Rosa")
    await rosa.send("Hola")
    await rosa.send("buenos aires")
    await rosa.send("la plata")
    await rosa.send("1")
    await rosa.send("si")
    village = _locality(bot.database, rosa.address)
    catalog = Catalog.from_store(bot.database)
    starts = datetime.now(timezone.utc).replace(microsecond=0, second=0) + timedelta(days=2)
    with session_scope(bot.database) as session:
        plan_visit(session, catalog, find_place(catalog, village), starts, starts + timedelta(hours=4), ["ar-food-card"], {}, "test")

    screen = await rosa.send("¿cuándo viene el operativo?")
    assert "La oficina móvil viene a" in screen and "Tarjeta" in screen
    screen = await rosa.send(number_of(screen, "Reservar turno"))
    assert "Su número es el 1" in screen and "Lleve:" in screen and "DNI" in screen
    with session_scope(bot.database) as session:
        assert [(b.number, b.service_id, b.address) for b in session.exec(select(Booking))] == [(1, "ar-food-card", rosa.address)]
    assert bot.twilio.problems == []

