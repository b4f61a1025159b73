"""``/healthz`` tells whether replies leave: the outbox's backlog by status,
the age of its oldest waiting message, held and failed counts; 503 with the
reason past the ``OUTBOX_ALERT_*`` thresholds. The real ASGI app on the
store; the channel is a sender that answers as told."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from bot.settings import Settings
from bot.web import create_app
from bot.wiring import build
from notifications.senders import SendResult
from storage.models import utcnow
from tests.test_outbox import Clock, RecordingSender, queue


@pytest.fixture
async def running(database_url):
    """The bot as ``onewindow run`` builds it, its loops just beaten, on a fake clock."""
    settings = Settings(database_url=database_url, outbox_alert_due=5, outbox_alert_age_minutes=15, outbox_alert_failed=2)
    bot = build(settings)
    bot.outbox.clock = Clock()
    bot.outbox.alive_at = bot.scheduler.alive_at = utcnow()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(bot)), base_url="http://bot.test") as client:
        yield bot, client
    bot.database.dispose()


async def health(client) -> tuple[int, dict]:
    response = await client.get("/healthz")
    return response.status_code, response.json()


async def test_an_outbox_that_keeps_up_is_healthy(running):
    bot, client = running
    bot.outbox.add_sender(RecordingSender())
    queue(bot.database, "one", address="test:1")
    assert await bot.outbox.deliver_due() == 1
    status, body = await health(client)
    assert status == 200 and body["ok"] is True
    assert body["delivery"] == {
        "due": 0, "due_by_status": {}, "oldest_due_seconds": 0, "held": 0, "failed": 0, "failed_last_24h": 0, "problems": [],
    }


async def test_a_channel_that_is_down_turns_it_unhealthy_as_replies_wait(running):
    bot, client = running
    bot.outbox.add_sender(RecordingSender([SendResult.retry("HTTP 503", code="HTTP 503")] * 3))
    for n in range(3):
        queue(bot.database, "hello", address=f"test:{n}")
    queue(bot.database, "for a channel this process does not run", address="console:karim")
    await bot.outbox.deliver_due()
    status, body = await health(client)
    assert status == 200 and body["delivery"]["due"] == 3 and body["delivery"]["due_by_status"] == {"retry": 3}

    bot.outbox.clock.advance(16 * 60)
    status, body = await health(client)
    assert status == 503 and body["ok"] is False
    assert body["delivery"]["oldest_due_seconds"] >= 16 * 60
    assert body["delivery"]["problems"] == ["the oldest message waiting has waited 16 min (more than 15)"]

    for n in range(3):
        queue(bot.database, "more", address=f"test:{n}")
    bot.outbox.clock.advance(-16 * 60)
    status, body = await health(client)
    assert status == 503 and body["delivery"]["problems"] == ["6 messages waiting to go (more than 5)"]
    assert body["delivery"]["due_by_status"] == {"queued": 3, "retry": 3}


async def test_held_and_failed_messages_are_counted_and_failures_alert(running):
    bot, client = running
    answers = [SendResult.held("window closed"), SendResult.failed("Twilio 21211", "Twilio 21211 (HTTP 400)"),
               SendResult.failed("Twilio 21211", "Twilio 21211 (HTTP 400)")]
    bot.outbox.add_sender(RecordingSender(answers))
    queue(bot.database, "held", address="test:1")
    queue(bot.database, "failed", address="test:2")
    await bot.outbox.deliver_due()
    status, body = await health(client)
    assert status == 200 and (body["delivery"]["held"], body["delivery"]["failed"], body["delivery"]["failed_last_24h"]) == (1, 1, 1)

    queue(bot.database, "failed too", address="test:3")
    await bot.outbox.deliver_due()
    status, body = await health(client)
    assert status == 503 and body["delivery"]["problems"] == ["2 messages failed in the last 24 hours (2 or more)"]
    bot.outbox.clock.advance(timedelta(hours=25).total_seconds())
    status, body = await health(client)
    assert status == 200 and body["delivery"]["failed"] == 2 and body["delivery"]["failed_last_24h"] == 0
