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


@pytest.mark.parametrize("no_secret", [{"webhook_secret": ""}, {"webhook_secret": None}, {}])
async def test_with_no_secret_configured_every_update_is_refused(tmp_path, no_secret):
    """A webhook with no secret would take updates from anyone: the server
    refuses them all (and ``onewindow run`` refuses to start that way)."""
    bot = build(Settings(database_url=f"sqlite:///{tmp_path / 'open.sqlite3'}"))
    inbox = TelegramInbox(None, bot.engine, bot.database)
    app = create_app(bot, inbox, **no_secret)
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


# -- what each refusal says, and the routes' methods --------------------------------

@pytest.fixture
async def plain_web(tmp_path):
    """The web app with Telegram's webhook on (no Bot API needed to store updates)."""
    bot = build(Settings(database_url=f"sqlite:///{tmp_path / 'plain.sqlite3'}"))
    inbox = TelegramInbox(None, bot.engine, bot.database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(bot, inbox, SECRET)), base_url="http://bot.test") as client:
        yield client, bot, inbox
    await inbox.stop()
    bot.database.dispose()


def stored_updates(bot) -> int:
    from sqlalchemy import text

    with bot.database.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM inbox")).scalar_one()


async def test_each_refusal_of_an_update_says_why(plain_web):
    client, bot, _inbox = plain_web
    right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    wrong = await client.post("/telegram", json=start_update(1, 8201), headers={"x-telegram-bot-api-secret-token": SECRET + "x"})
    assert (wrong.status_code, wrong.text) == (403, "wrong secret token")
    missing = await client.post("/telegram", json=start_update(1, 8201))
    assert (missing.status_code, missing.text) == (403, "wrong secret token")
    empty = await client.post("/telegram", json=start_update(1, 8201), headers={"X-Telegram-Bot-Api-Secret-Token": ""})
    assert (empty.status_code, empty.text) == (403, "wrong secret token")
    garbled = await client.post("/telegram", content=b"{not json", headers=right)
    assert (garbled.status_code, garbled.text) == (400, "not JSON")
    not_an_update = await client.post("/telegram", json={"hello": "world"}, headers=right)
    assert not_an_update.status_code == 400 and "update_id" in not_an_update.text
    huge = await client.post("/telegram", content=b"[" + b"1," * 600_000 + b"1]", headers=right)
    assert (huge.status_code, huge.text) == (413, "too large")
    assert stored_updates(bot) == 0


async def test_the_secret_header_is_read_whatever_its_case(plain_web):
    client, bot, _inbox = plain_web
    response = await client.post("/telegram", json=start_update(7, 8207), headers={"X-TELEGRAM-BOT-API-SECRET-TOKEN": SECRET})
    assert response.status_code == 200 and response.text == ""
    assert stored_updates(bot) == 1


async def test_a_stopping_inbox_asks_telegram_to_send_the_update_again(plain_web):
    client, bot, inbox = plain_web
    await inbox.stop()
    response = await client.post("/telegram", json=start_update(8, 8208), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert (response.status_code, response.text) == (503, "stopping; send it again")
    assert stored_updates(bot) == 0


async def test_without_telegrams_webhook_its_path_is_not_found(tmp_path):
    bot = build(Settings(database_url=f"sqlite:///{tmp_path / 'no-telegram.sqlite3'}"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(bot, None, SECRET)), base_url="http://bot.test") as client:
        response = await client.post("/telegram", json=start_update(9, 8209), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        assert (response.status_code, response.text) == (404, "")
        assert (await client.get("/telegram")).status_code == 405  # a webhook is posted, never fetched
    bot.database.dispose()


async def test_a_broken_store_is_named_in_the_health_check(plain_web, monkeypatch):
    import bot.web

    client, _bot, _inbox = plain_web

    def refused(database):
        raise ConnectionRefusedError("the store is down")

    monkeypatch.setattr(bot.web, "_ping", refused)
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["store"] == "error: ConnectionRefusedError" and "delivery" not in response.json()


async def test_a_citizens_data_link_gives_the_file_once(plain_web):
    from storage.db import session_scope
    from storage.models import Citizen
    from storage.privacy import new_export

    client, bot, _inbox = plain_web
    with session_scope(bot.database) as session:
        citizen = Citizen(display_name="Dilnoza Karimova", language="uz")
        session.add(citizen)
        session.flush()
        token = new_export(session, citizen.id)
    assert (await client.post(f"/mydata/{token}")).status_code == 405  # only fetched, and never used up by a post
    response = await client.get(f"/mydata/{token}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["cache-control"] == "no-store" and response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["content-disposition"].startswith('attachment; filename="my-data-')
    assert response.json()["citizen"]["name"] == "Dilnoza Karimova"
    again = await client.get(f"/mydata/{token}")
    assert (again.status_code, again.text) == (404, "This link has expired or was already used. Ask the bot again: /mydata\n")
    assert again.headers["cache-control"] == "no-store"
