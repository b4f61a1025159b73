"""How many signed WhatsApp webhooks a second the running server takes.

Starts ``onewindow run`` as it runs in production — one process, one event
loop, its SQLite store, WhatsApp on — with its outbox sending the replies to
a loopback fake Twilio. Then posts N signed Twilio webhooks (a realistic mix:
newcomers saying hello, numbered answers, requests in four languages, status
checks; a few posted twice, as Twilio does when an answer is slow) at a
concurrency of 50 over loopback, and prints requests a second, p50/p99
latency and errors. Finally it reads the store: every message must be
stored exactly once.

    python bench/webhook.py [-n 5000] [--concurrency 50] [--citizens 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, FakeTwilio, new_sid  # noqa: E402

TEXTS = [
    "Hola", "Salom", "Здравствуйте", "1", "2", "3", "4", "5", "menu", "yordam",
    "Mahallamizda 3 kundan beri svet yo'q", "Нет воды в доме уже неделю", "No hay agua en el barrio desde ayer",
    "Necesito turno para el hospital", "Yo'l buzilgan, chuqurlar ko'p 🙏", "¿Cómo va mi solicitud KX7-4MP?",
    "Пособие по уходу за ребёнком не пришло", "Маҳалламизда свет йўқ 😞",
]
DUPLICATES = 0.05  # share of posts Twilio sends twice


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(folder: Path, port: int, twilio_url: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "DATABASE_URL", "WHATSAPP_"))}
    env.update({
        "PYTHONPATH": str(ROOT), "DATA_DIR": str(folder / "data"), "LOG_LEVEL": "WARNING",
        "WEB_HOST": "127.0.0.1", "WEB_PORT": str(port),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_WHATSAPP_FROM": OUR_NUMBER,
        "TWILIO_PUBLIC_URL": f"http://127.0.0.1:{port}", "TWILIO_API_BASE_URL": twilio_url,
    })
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=folder, env=env)


async def wait_until_healthy(url: str, server: subprocess.Popen) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if server.poll() is not None:
                raise SystemExit(f"the server stopped (exit {server.returncode})")
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not become healthy")


def webhooks(twilio: FakeTwilio, url: str, n: int, citizens: int) -> list[tuple[dict, str]]:
    """Signed posts, prepared before the clock starts."""
    numbers = [f"+54922155{i:05d}" if i % 2 else f"+9989012{i:05d}" for i in range(citizens)]
    posts = []
    for _ in range(n):
        form = twilio.webhook("text", From=f"whatsapp:{random.choice(numbers)}", Body=random.choice(TEXTS), MessageSid=new_sid())
        posts.append((form, twilio.signature(f"{url}/whatsapp", form)))
        if random.random() < DUPLICATES:
            posts.append(posts[-1])
    return posts


async def hammer(url: str, posts: list[tuple[dict, str]], concurrency: int) -> tuple[float, list[float], list[str]]:
    """Post everything, ``concurrency`` at a time over kept-alive connections.
    The load comes from aiohttp: httpx's client spends more CPU per request
    than the server under test, and would measure itself."""
    queue: asyncio.Queue = asyncio.Queue()
    for form, signature in posts:
        queue.put_nowait((urlencode(form), signature))
    latencies: list[float] = []
    errors: list[str] = []
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    async def worker(client: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body, signature = queue.get_nowait()
            started = time.perf_counter()
            try:
                async with client.post(f"{url}/whatsapp", data=body, headers={**headers, "X-Twilio-Signature": signature}) as response:
                    text = await response.text()
                    if response.status != 200:
                        errors.append(f"HTTP {response.status}: {text[:80]}")
            except aiohttp.ClientError as error:
                errors.append(f"{type(error).__name__}: {error}")
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies, errors


def stored_once(database: Path, posts: list[tuple[dict, str]]) -> tuple[int, int, int]:
    """(distinct messages posted, rows stored for them, messages stored more than once)."""
    sids = {form["MessageSid"] for form, _ in posts}
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT external_id, COUNT(*) FROM message WHERE direction = 'in' AND channel = 'whatsapp' GROUP BY external_id").fetchall()
    mine = {sid: count for sid, count in rows if sid in sids}
    return len(sids), sum(mine.values()), sum(1 for count in mine.values() if count > 1)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000, help="messages to post (default 5000; about 5%% more are replays)")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--citizens", type=int, default=500)
    args = parser.parse_args()
    random.seed(7)
    twilio = FakeTwilio().start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = start_server(folder, port, twilio.url)
        try:
            await wait_until_healthy(url, server)
            posts = webhooks(twilio, url, args.n, args.citizens)
            warm = webhooks(twilio, url, 200, 50)
            await hammer(url, warm, args.concurrency)
            elapsed, latencies, errors = await hammer(url, posts, args.concurrency)
        finally:
            server.terminate()
            server.wait(timeout=30)
            twilio.stop()
        distinct, rows, twice = stored_once(folder / "data" / "onewindow.sqlite3", posts)
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{len(posts)} signed webhooks ({len(posts) - distinct} replays) from {args.citizens} citizens, "
          f"concurrency {args.concurrency}, loopback, SQLite store")
    print(f"{len(posts) / elapsed:8.0f} requests/s   p50 {cuts[49] * 1000:6.1f} ms   p99 {cuts[98] * 1000:6.1f} ms   errors {len(errors)}")
    print(f"stored: {rows} of {distinct} distinct messages, {twice} more than once; "
          f"Twilio was asked to send {len(twilio.requests)} replies meanwhile ({len(twilio.problems)} malformed)")
    for error in sorted(set(errors))[:5]:
        print("  error:", error)
    ok = not errors and rows == distinct and twice == 0
    print("OK: every message stored exactly once, no errors" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    asyncio.run(main())
