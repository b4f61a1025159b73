"""Stopping (SIGTERM, Ctrl-C): no new work, what is in flight finishes, the
outbox puts back what it claimed and did not send, then the store closes.
No webhook in flight gets a 500 and nothing stays leased."""

from __future__ import annotations

import asyncio
import json

import httpx
from sqlmodel import select

from bot.commands.run import serve
from bot.settings import Settings
from storage.db import make_engine, session_scope
from storage.models import InboxItem, Message
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, fake_twilio  # noqa: F401
from tests.test_telegram_inbox import SECRET, hello
from tests.test_whatsapp_run import eventually, free_port


async def test_stopping_under_load_answers_every_webhook_in_flight_and_leaves_nothing_claimed(
    database_url, fake_twilio, telegram_emulator, tmp_path  # noqa: F811
):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        data_dir=str(tmp_path), database_url=database_url, web_port=port,
        twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, twilio_whatsapp_from=OUR_NUMBER,
        twilio_public_url=url, twilio_api_base_url=fake_twilio.url,
        telegram_bot_token=telegram_emulator.new_token(), telegram_api_base_url=telegram_emulator.url,
        telegram_webhook_url=f"{url}/telegram", telegram_webhook_secret=SECRET,
    )
    fake_twilio.delay = 0.1  # sends are in progress when the stop comes
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, stop=stop))
    forms = [fake_twilio.webhook("text", From=f"whatsapp:+5492215{n:06d}", Body="Hola") for n in range(40)]
    updates = [hello(1000 + n, 9000 + n) for n in range(40)]
    answered: list[int] = []
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def healthy() -> bool:
            try:
                return (await client.get("/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        assert await eventually(healthy)

        async def post(request):
            response = await request
            answered.append(response.status_code)
            if len(answered) == 10:
                stop.set()  # what serve() does on SIGTERM
            return response

        whatsapp = [post(fake_twilio.post(client, "/whatsapp", form, public_url=url)) for form in forms]
        telegram = [post(client.post("/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})) for update in updates]
        results = await asyncio.gather(*whatsapp, *telegram, return_exceptions=True)
    await asyncio.wait_for(running, 60)

    codes = [r.status_code for r in results if isinstance(r, httpx.Response)]
    refused = [r for r in results if not isinstance(r, httpx.Response)]
    assert all(isinstance(r, httpx.TransportError) for r in refused), refused  # not taken: the channel sends it again
    assert set(codes) <= {200, 503} and codes.count(200) >= 10
    database = make_engine(database_url)
    with session_scope(database) as session:
        inbound = {m.external_id for m in session.exec(select(Message).where(Message.direction == "in"))}
        waiting = {i.external_id for i in session.exec(select(InboxItem))}
        outbound = list(session.exec(select(Message).where(Message.direction == "out")))
    database.dispose()
    for result, form in zip(results[:40], forms):
        if isinstance(result, httpx.Response) and result.status_code == 200:
            assert form["MessageSid"] in inbound
    for result, update in zip(results[40:], updates):
        if isinstance(result, httpx.Response) and result.status_code == 200:
            assert str(update["update_id"]) in inbound | waiting
    assert outbound and not [m for m in outbound if m.status == "sending"]
    assert json.dumps(fake_twilio.problems) == "[]"
