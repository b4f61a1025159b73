"""Twilio down for hours: the reply goes out when it is back, logged once.

The real twilio client talks to the loopback fake Twilio, which answers 500,
then 429, then is not there at all (connections refused); the outbox runs on
a fake clock, so hours pass in a second. Past the retry window the reply is
``failed``, an admin sees it in ``/outbox`` and sends it again."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.message_rows import outbound_values
from flows.messages import Outgoing
from handlers.staff.team import add
from notifications.retrying import RetryPolicy
from storage.db import session_scope
from storage.models import Identity, Message, utcnow
from tests.conversation import Chat
from tests.fake_twilio import fake_twilio, whatsapp_bot  # noqa: F401

ROSA = "whatsapp:+5492215550134"
ANSWER = "La cuadrilla pasa mañana por su calle."


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now


@pytest.fixture
async def bot(database_url, fake_twilio):  # noqa: F811
    async with whatsapp_bot(database_url, fake_twilio) as bot:
        await bot.post("/whatsapp", fake_twilio.webhook("text"))  # Rosa writes first
        await bot.deliver()
        bot.clock = bot.bot.outbox.clock = Clock()
        yield bot


def queue(database, text: str) -> int:
    with session_scope(database) as session:
        citizen_id = session.get(Identity, ROSA).citizen_id
        row = Message(**outbound_values(Outgoing(ROSA, text), citizen_id, None))
        session.add(row)
        session.flush()
        return row.id


def message(database, message_id: int) -> Message:
    with session_scope(database) as session:
        return session.get(Message, message_id)


async def outage(bot, message_id: int, minutes: float, *, status: int = 500, code: int = 20500, refused: bool = False) -> None:
    """Twilio answers ``status`` (or refuses connections) for ``minutes`` of
    the outbox's clock, which jumps from one try to the next."""
    sender = bot.bot.outbox.senders["whatsapp"]
    real_url = sender.client.http_client.base_url
    if refused:
        sender.client.http_client.base_url = "http://127.0.0.1:9"  # nothing listens there
    else:
        bot.twilio.down(status, code, "Service unavailable, try later")
    end = bot.clock() + timedelta(minutes=minutes)
    try:
        while bot.clock() < end:
            await bot.deliver()
            row = message(bot.database, message_id)
            assert row.status == "retry", (row.status, row.error)
            bot.clock.now = max(bot.clock.now, row.next_attempt_at)
    finally:
        sender.client.http_client.base_url = real_url
        bot.twilio.up()


def outbox_logs(caplog) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name.startswith("notifications") and r.levelno >= logging.INFO]


@pytest.mark.parametrize("minutes", [5, 120])
async def test_a_reply_goes_out_after_twilio_was_down(bot, caplog, minutes):
    caplog.set_level(logging.DEBUG)
    message_id = queue(bot.database, ANSWER)
    third = minutes / 3
    await outage(bot, message_id, third, status=500, code=20500)
    await outage(bot, message_id, third, status=429, code=20429)
    await outage(bot, message_id, third, refused=True)
    sent = await bot.deliver()

    assert [r.body for r in sent] == [ANSWER]
    assert [r.body for r in bot.twilio.sent_to(ROSA)].count(ANSWER) == 1
    assert message(bot.database, message_id).status == "sent"
    failed_tries = [r for r in bot.twilio.requests if r.body == ANSWER and r.status != 201]
    assert {r.status for r in failed_tries} == {500, 429}
    logged = outbox_logs(caplog)
    assert [level for level, _ in logged] == ["WARNING", "INFO"], logged
    assert f"message {message_id} to whatsapp:+54922****134 not delivered (Twilio 20500 (HTTP 500))" in logged[0][1]
    assert all("5492215550134" not in text and "cuadrilla" not in text for _, text in logged)


async def test_past_the_retry_window_the_reply_fails_and_an_admin_sends_it_again(bot, caplog):
    caplog.set_level(logging.DEBUG)
    bot.bot.outbox.policy = RetryPolicy(give_up_after=timedelta(hours=1))  # a day is tested in test_outbox
    message_id = queue(bot.database, ANSWER)
    await outage(bot, message_id, 60 - 5, status=503, code=20503)
    bot.twilio.down(503, 20503)
    bot.clock.now += timedelta(minutes=10)
    await bot.deliver()
    bot.twilio.up()
    failed = message(bot.database, message_id)
    assert failed.status == "failed" and "Twilio 20503" in failed.error
    assert [level for level, _ in outbox_logs(caplog)] == ["WARNING", "ERROR"]

    with session_scope(bot.database) as session:
        add(session, "console:root", "admin", None, "Root")
    root = Chat(bot.bot.engine, "root")
    listing = root.send("/outbox")[0].text
    assert f"#{message_id} · failed · " in listing and "whatsapp:+54922****134" in listing and "Twilio 20503" in listing
    assert "+5492215550134" not in listing
    assert "1 message queued to go again" in root.send(f"/outbox retry {message_id}")[0].text

    sent = await bot.deliver()
    assert [r.body for r in sent] == [ANSWER]
    assert message(bot.database, message_id).status == "sent"
    with session_scope(bot.database) as session:
        assert session.exec(select(Message).where(Message.status == "failed")).all() == []
