"""How many signed WhatsApp webhooks a second the running server takes.

Starts ``onewindow run`` as it runs in production — WhatsApp on, its outbox
sending the replies to a loopback fake Twilio — on its SQLite store, or, with
``DATABASE_URL`` set to PostgreSQL, as 1 and 4 processes sharing one port
(``WEB_REUSE_PORT=on``) and the store. Then posts N signed Twilio webhooks (a
realistic mix: newcomers saying hello, numbered answers, requests in four
languages, status checks; a few posted twice, as Twilio does when an answer
is slow) over loopback at each concurrency, and prints requests a second,
p50/p99 latency, errors, and the replies the outbox sent a second meanwhile.
Finally it reads the store: every message must be stored exactly once.
Target: p99 under 100 ms at a concurrency of 50. Point ``DATABASE_URL`` at a
scratch store: replies an earlier run left unsent are marked failed first.

    python bench/webhook.py [-n 5000] [--concurrency 50,200] [--citizens 500] [--processes 1,4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
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


def start_server(folder: Path, port: int, twilio_url: str, database_url: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "DATABASE_URL", "WHATSAPP_", "WEB_"))}
    if database_url:
        env.update({"DATABASE_URL": database_url, "WEB_REUSE_PORT": "on"})
    env.update({
        "PYTHONPATH": str(ROOT), "DATA_DIR": str(folder / "data"), "LOG_LEVEL": "WARNING",
        "WEB_HOST": "127.0.0.1", "WEB_PORT": str(port),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_WHATSAPP_FROM": OUR_NUMBER,
        "TWILIO_PUBLIC_URL": f"http://127.0.0.1:{port}", "TWILIO_API_BASE_URL": twilio_url,
    })
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=folder, env=env, stderr=open(folder / "run.log", "ab"))


async def wait_until_healthy(url: str, server: subprocess.Popen) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if server.poll() is not None:
                raise SystemExit(f"the server stopped (exit {server.returncode})")
            try:
                # up: 200, or 503 when replies wait in the outbox (a bench posts faster than WhatsApp's rate)
                if (await client.get(f"{url}/healthz")).status_code in (200, 503):
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


def stored_once(database_url: str, posts: list[tuple[dict, str]]) -> tuple[int, int, int]:
    """(distinct messages posted, rows stored for them, messages stored more than once)."""
    from sqlalchemy import text

    from storage.db import make_engine

    sids = {form["MessageSid"] for form, _ in posts}
    database = make_engine(database_url)
    with database.connect() as connection:
        rows = connection.execute(text(
            "SELECT external_id, COUNT(*) FROM message WHERE direction = 'in' AND channel = 'whatsapp' GROUP BY external_id")).all()
    database.dispose()
    mine = {sid: count for sid, count in rows if sid in sids}
    return len(sids), sum(mine.values()), sum(1 for count in mine.values() if count > 1)


def forget_waiting_replies(database_url: str) -> None:
    """A reused PostgreSQL store still holds the replies an earlier run had
    no time to send (WhatsApp's rate is far below the posting rate): they are
    marked failed, so that "replies sent" counts this run's."""
    from sqlalchemy import text

    from storage.db import make_engine

    database = make_engine(database_url)
    with database.begin() as connection:
        connection.execute(text("UPDATE message SET status = 'failed', error = 'left by an earlier benchmark run', next_attempt_at = NULL "
                                "WHERE direction = 'out' AND status IN ('queued', 'retry', 'sending')"))
    database.dispose()


async def measure(args, processes: int, database_url: str | None) -> bool:
    """Start ``processes`` servers on one port, post at each concurrency, check the store."""
    twilio = FakeTwilio().start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ok = True
    if database_url:
        forget_waiting_replies(database_url)
    with tempfile.TemporaryDirectory() as tmp:
        servers = []
        store = database_url or f"sqlite:///{Path(tmp) / 'p0' / 'data' / 'onewindow.sqlite3'}"
        try:
            for number in range(processes):
                folder = Path(tmp) / f"p{number}"
                folder.mkdir()
                servers.append(start_server(folder, port, twilio.url, database_url))
                if number == 0:
                    await wait_until_healthy(url, servers[0])  # the first brings the store up to date
            await asyncio.sleep(3 if processes > 1 else 0)  # the others start
            for server in servers:
                if server.poll() is not None:
                    raise SystemExit(f"a server stopped (exit {server.returncode}); see its run.log")
            await hammer(url, webhooks(twilio, url, 200, 50), 50)  # warm up every process
            for concurrency in args.concurrency:
                posts = webhooks(twilio, url, args.n, args.citizens)
                replies_before = len(twilio.requests)
                elapsed, latencies, errors = await hammer(url, posts, concurrency)
                replies = len(twilio.requests) - replies_before
                distinct, rows, twice = stored_once(store, posts)
                cuts = statistics.quantiles(latencies, n=100)
                where = f"PostgreSQL, {processes} process{'es' if processes > 1 else ''} on one port" if database_url else "SQLite, 1 process"
                print(f"{where:<36} concurrency {concurrency:3}: {len(posts) / elapsed:6.0f} requests/s   p50 {cuts[49] * 1000:7.1f} ms   "
                      f"p99 {cuts[98] * 1000:7.1f} ms   errors {len(errors)}   replies sent {replies / elapsed:5.0f}/s", flush=True)
                print(f"{'':36} stored: {rows} of {distinct} distinct messages ({len(posts) - distinct} replays), "
                      f"{twice} more than once", flush=True)
                for error in sorted(set(errors))[:5]:
                    print("  error:", error)
                ok = ok and not errors and rows == distinct and twice == 0
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=30)
            twilio.stop()
    return ok


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000, help="messages to post per concurrency (default 5000; about 5%% more are replays)")
    parser.add_argument("--concurrency", type=lambda v: [int(c) for c in v.split(",")], default=[50, 200])
    parser.add_argument("--citizens", type=int, default=500)
    parser.add_argument("--processes", type=lambda v: [int(p) for p in v.split(",")], default=[1, 4],
                        help="process counts on PostgreSQL (DATABASE_URL); SQLite is one process")
    args = parser.parse_args()
    random.seed(7)
    database_url = os.environ.get("DATABASE_URL", "")
    postgres = database_url.startswith("postgres")
    print(f"signed WhatsApp webhooks from {args.citizens} citizens over loopback, {args.n} a run; "
          f"the outbox sends the replies to a fake Twilio at WHATSAPP_PER_SECOND (10) a process; {os.cpu_count()} CPUs")
    ok = True
    for processes in args.processes if postgres else [1]:
        ok = await measure(args, processes, database_url if postgres else None) and ok
    if not postgres:
        print("PostgreSQL with several processes: set DATABASE_URL=postgresql://...")
    print("OK: every message stored exactly once, no errors" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    asyncio.run(main())
