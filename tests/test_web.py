"""The web server: Telegram's webhook behind its secret token, and /healthz."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.settings import Settings
from bot.web import create_app
from bot.wiring import build
from handlers.telegram import TelegramSender, build_application
from handlers.telegram_inbox import TelegramInbox

SECRET = "s3cret-token_for-tests"


@pytest.fixture
async def webhook_bot(telegram_emulator, tmp_path):
    token = telegram_emulator.new_token()
    bot = build(Settings(database_url=f"sqlite:///{tmp_path / 'web.sqlite3'}"))
    telegram = build_application(token, telegram_emulator.url)
    await telegram.initialize()
    bot.outbox.add_sender(TelegramSender(telegram.bot))
    inbox = TelegramInbox(telegram.bot, bot.engine, bot.database)
    await inbox.start()
    outbox = asyncio.create_task(bot.outbox.run(idle_seconds=0.05))
    bot.scheduler.start()
    app = create_app(bot, inbox, SECRET)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as client:
        yield client, token, bot
    await inbox.stop()
    outbox.cancel()
    bot.scheduler.shutdown()
    await telegram.shutdown()
    bot.database.dispose()


def start_update(update_id: int, user_id: int) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Rosa", "language_code": "es"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1, "date": 1_763_700_000, "text": "/start", "from": user,
            "chat": {"id": user_id, "type": "private", "first_name": "Rosa"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def test_an_update_with_the_secret_token_is_served(webhook_bot, telegram_emulator):
    client, token, _bot = webhook_bot
    rosa = telegram_emulator.user(token, 8101, "Rosa", language_code="es")
    response = await client.post("/telegram", json=start_update(1, 8101), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 200
    await rosa.wait_for("¡Hola! Soy onewindow")  # her app is in Spanish
    place = await rosa.wait_for("¿Dónde vive?")
    assert "🌐 Otro idioma" in place.button_texts


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}])
async def test_an_update_without_the_right_secret_is_refused_and_not_stored(webhook_bot, headers):
    client, _token, bot = webhook_bot
    response = await client.post("/telegram", json=start_update(2, 8102), headers=headers)
    assert response.status_code == 403
    await asyncio.sleep(0.2)
    from storage import queries
    from storage.db import session_scope

    with session_scope(bot.database) as session:
        assert queries.count_messages(session) == 0


async def test_with_no_secret_configured_every_update_is_refused(tmp_path):
    """A webhook with no secret would take updates from anyone: the server
    refuses them all (and ``onewindow run`` refuses to start that way)."""
    bot = build(Settings(database_url=f"sqlite:///{tmp_path / 'open.sqlite3'}"))
    inbox = TelegramInbox(None, bot.engine, bot.database)
    app = create_app(bot, inbox, "")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as client:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": ""}, {"X-Telegram-Bot-Api-Secret-Token": "anything"}):
            response = await client.post("/telegram", json=start_update(3, 8103), headers=headers)
            assert response.status_code == 403
    from storage import queries
    from storage.db import session_scope

    with session_scope(bot.database) as session:
        assert queries.count_messages(session) == 0
    bot.database.dispose()


async def test_a_body_that_is_not_json_is_a_bad_request(webhook_bot):
    client, _token, _bot = webhook_bot
    response = await client.post("/telegram", content=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 400


async def test_healthz_reports_the_store_the_outbox_and_the_scheduler(webhook_bot):
    client, _token, _bot = webhook_bot
    await asyncio.sleep(0.1)
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("ok", "store", "outbox", "scheduler")} == {"ok": True, "store": "ok", "outbox": "ok", "scheduler": "ok"}
    assert body["delivery"]["due"] == 0 and body["delivery"]["problems"] == []


async def test_healthz_says_when_the_outbox_and_scheduler_are_not_running(tmp_path):
    bot = build(Settings(database_url=f"sqlite:///{tmp_path / 'idle.sqlite3'}"))
    app = create_app(bot)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as client:
        response = await client.get("/healthz")
    assert response.status_code == 503 and response.json()["outbox"] == response.json()["scheduler"] == "stalled"


@pytest.mark.parametrize("silent_for, said", [(0, "ok"), (29.999, "ok"), (30, "stalled"), (30.5, "stalled"), (3600, "stalled")])
async def test_healthz_calls_a_loop_stalled_after_half_a_minute_without_a_beat(tmp_path, monkeypatch, silent_for, said):
    from datetime import timedelta

    import bot.web
    from storage.models import utcnow

    now = utcnow()
    monkeypatch.setattr(bot.web, "utcnow", lambda: now)
    bot_ = build(Settings(database_url=f"sqlite:///{tmp_path / 'beats.sqlite3'}"))
    bot_.outbox.alive_at = now - timedelta(seconds=silent_for)
    bot_.scheduler.alive_at = now  # beating
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(bot_)), base_url="http://bot.test") as client:
        response = await client.get("/healthz")
    assert (response.json()["outbox"], response.json()["scheduler"]) == (said, "ok")
    assert response.status_code == (200 if said == "ok" else 503)
