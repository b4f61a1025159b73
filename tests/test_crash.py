"""A crash loses nothing a channel was told we have: ``onewindow run`` as a
real process takes Telegram updates and WhatsApp messages, is killed with
SIGKILL part-way, and restarted; every message it acknowledged is handled
exactly once. (``bench/crash.py`` measures the same at a larger scale.)"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import text

from storage.db import make_engine
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, fake_twilio  # noqa: F401
from tests.test_telegram_inbox import SECRET, hello
from tests.test_whatsapp_run import eventually, free_port

ROOT = Path(__file__).resolve().parents[1]
EACH = 30  # messages per channel
KILL_AFTER = 20  # acknowledgements


def start(tmp_path: Path, database_url: str, port: int, twilio_url: str, telegram_url: str, token: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "DATABASE_URL", "WHATSAPP_"))}
    url = f"http://127.0.0.1:{port}"
    env.update({
        "PYTHONPATH": str(ROOT), "DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING",
        "WEB_HOST": "127.0.0.1", "WEB_PORT": str(port),
        "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE_URL": telegram_url,
        "TELEGRAM_WEBHOOK_URL": f"{url}/telegram", "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_WHATSAPP_FROM": OUR_NUMBER,
        "TWILIO_PUBLIC_URL": url, "TWILIO_API_BASE_URL": twilio_url,
    })
    log = open(tmp_path / "run.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=env, stdout=log, stderr=log)


def handled(database_url: str) -> tuple[Counter, int]:
    """How often each (channel, id) was stored as handled; updates still waiting in the inbox."""
    database = make_engine(database_url)
    try:
        with database.connect() as conn:
            rows = Counter((c, e) for c, e in conn.execute(text("SELECT channel, external_id FROM message WHERE direction = 'in'")))
            return rows, conn.execute(text("SELECT COUNT(*) FROM inbox")).scalar()
    finally:
        database.dispose()


async def test_every_message_acknowledged_before_a_sigkill_is_handled_once_after_the_restart(
    database_url, fake_twilio, telegram_emulator, tmp_path  # noqa: F811
):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    token = telegram_emulator.new_token()
    run = lambda: start(tmp_path, database_url, port, fake_twilio.url, telegram_emulator.url, token)  # noqa: E731
    posts = []
    for n in range(EACH):
        form = fake_twilio.webhook("text", From=f"whatsapp:+5492216{n:06d}", Body="Hola")
        posts.append((("whatsapp", form["MessageSid"]), "/whatsapp", form))
        update = hello(3000 + n, 93000 + n)
        posts.append((("telegram", str(update["update_id"])), "/telegram", update))
    acknowledged: set = set()

    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def healthy() -> bool:
            try:
                return (await client.get("/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        async def post(path: str, body) -> int:
            try:
                if path == "/whatsapp":
                    return (await fake_twilio.post(client, path, body, public_url=url)).status_code
                content = json.dumps(body)
                headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
                return (await client.post(path, content=content, headers=headers)).status_code
            except httpx.TransportError:
                return 0  # not acknowledged: the channel sends it again

        process = run()
        try:
            assert await eventually(healthy), (tmp_path / "run.log").read_text()
            lanes = asyncio.Semaphore(8)

            async def one(key, path, body) -> None:
                async with lanes:
                    if process.poll() is None and await post(path, body) == 200:
                        acknowledged.add(key)
                        if len(acknowledged) == KILL_AFTER:
                            process.send_signal(signal.SIGKILL)

            await asyncio.gather(*(one(*p) for p in posts))
            process.wait(10)
            assert process.returncode == -signal.SIGKILL and len(acknowledged) >= KILL_AFTER

            process = run()
            assert await eventually(healthy), (tmp_path / "run.log").read_text()

            async def recovered() -> bool:
                rows, waiting = handled(database_url)
                return acknowledged <= set(rows) and waiting == 0

            assert await eventually(recovered)
            for key, path, body in posts:  # what Telegram and Twilio send again
                if key not in acknowledged:
                    assert await post(path, body) == 200

            async def all_handled() -> bool:
                rows, waiting = handled(database_url)
                return {key for key, _, _ in posts} <= set(rows) and waiting == 0

            assert await eventually(all_handled)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    rows, _ = handled(database_url)
    assert {key: rows[key] for key, _, _ in posts} == {key: 1 for key, _, _ in posts}
