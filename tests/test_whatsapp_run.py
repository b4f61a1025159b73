"""``onewindow run`` with only Twilio's settings: WhatsApp and the web server
start, a real uvicorn on a loopback port takes a signed webhook, and the
reply reaches (the fake) Twilio — one process, one event loop."""

from __future__ import annotations

import asyncio
import socket

import httpx

from bot.commands.run import serve
from bot.settings import Settings
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, fake_twilio  # noqa: F401

PATIENCE = 300  # rounds of 0.05 s: a deadline for a broken build, not a speed test


async def eventually(check) -> bool:
    for _ in range(PATIENCE):
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_run_starts_whatsapp_and_serves_its_webhook(database_url, fake_twilio, tmp_path):  # noqa: F811
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        data_dir=str(tmp_path), database_url=database_url, web_port=port,
        twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, twilio_whatsapp_from=OUR_NUMBER,
        twilio_public_url=url, twilio_api_base_url=fake_twilio.url,
    )
    assert settings.whatsapp_enabled and not settings.telegram_enabled
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, stop=stop))
    async with httpx.AsyncClient(base_url=url) as client:

        async def healthy() -> bool:
            try:
                return (await client.get("/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        assert await eventually(healthy)
        form = fake_twilio.webhook("text")
        answer = await fake_twilio.post(client, "/whatsapp", form, public_url=url)
        assert answer.status_code == 200
        assert (await fake_twilio.post(client, "/whatsapp", form, public_url=url, signature="forged")).status_code == 403

        async def replied() -> bool:
            return len(fake_twilio.sent_to(form["From"])) == 2

        assert await eventually(replied)
    stop.set()
    await running
    assert "🌐" in fake_twilio.sent_to(form["From"])[1].body  # the place question, with another language a number away
    assert fake_twilio.problems == []
