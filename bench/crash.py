"""What a crash costs: nothing a channel was told we have may be lost.

Starts ``onewindow run`` as in production (a real process; Telegram by
webhook and WhatsApp on, its replies going to loopback fakes of the Bot API
and of Twilio), posts N webhooks (half Telegram updates, half signed Twilio
posts, from a pool of citizens) at a concurrency, and part-way through kills
it: SIGKILL (a crash) or SIGTERM (a stop). Then it reads the store of the
dead process, restarts it, posts again what was not acknowledged (as
Telegram and Twilio do), waits until every acknowledged message is handled
and the outbox has settled, and prints, per store and signal:

- acknowledged: messages answered 200 before the signal;
- stored: of those, how many the store held when the process was gone;
- handled / lost: of those, handled after the restart, and never (target 0);
- twice: messages handled more than once (target 0);
- duplicated replies: sends the fakes received more often than the store
  has replies, split into those the outbox had confirmed as sent before the
  signal (target 0) and those in flight at the signal (sent, but the
  process died before recording it: sent again after their lease);
- replies left claimed: replies still ``sending`` after the signal (a
  graceful stop leaves none);
- stop: seconds from the signal until the process was gone; ready: from
  the restart until ``/healthz`` answers; recovery: from the restart until
  every acknowledged message was handled (before anything is posted again).

After the figures are taken, every post is checked handled once the
channels' resends are in.

    python bench/crash.py [-n 1000] [--concurrency 20] [--at 0.4] [--stores sqlite,postgresql] [--signals KILL,TERM]

PostgreSQL is ``TEST_POSTGRES_URL`` (default the local test database); each
run gets a schema of its own, dropped at the end. Exits 1 if anything
acknowledged was lost or handled twice, or a confirmed reply went twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from storage.db import make_engine  # noqa: E402
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, FakeTwilio, new_sid  # noqa: E402

TOKEN = "123456:BENCH-token"
SECRET = "bench-secret"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEXTS = ["Hola", "Salom", "Здравствуйте", "1", "2", "menu", "No hay agua en el barrio desde ayer",
         "Mahallamizda 3 kundan beri svet yo'q", "Нет воды в доме уже неделю"]
SETTLE_SECONDS = 120  # a reply in flight at a SIGKILL waits out its 60 s lease


class FakeBotApi:
    """The Bot API methods ``onewindow run`` calls, on loopback; counts sendMessage per chat."""

    def __init__(self):
        self.sent: Counter[str] = Counter()
        self._ids = iter(range(1, 10**9))
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                params = json.loads(body) if "json" in self.headers.get("Content-Type", "") else dict(parse_qsl(body))
                result = fake.answer(self.path.rsplit("/", 1)[-1], params)
                data = json.dumps({"ok": True, "result": result}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, method: str, params: dict):
        if method == "getMe":
            return {"id": 123456, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}
        if method == "sendMessage":
            with self._lock:
                self.sent[f"telegram:{params['chat_id']}"] += 1
                number = next(self._ids)
            return {"message_id": number, "date": int(time.time()), "text": params.get("text", ""),
                    "chat": {"id": int(params["chat_id"]), "type": "private"}}
        if method == "getUpdates":
            time.sleep(0.5)
            return []
        return True  # setWebhook, deleteWebhook, answerCallbackQuery

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Post:
    channel: str
    key: str  # update id or MessageSid
    address: str
    body: str
    headers: dict
    acknowledged: bool = False


@dataclass
class Figures:
    store: str
    signal: str
    posted: int = 0
    acknowledged: int = 0
    stored: int = 0
    handled: int = 0
    lost: int = 0
    twice: int = 0
    confirmed_duplicates: int = 0
    unconfirmed_duplicates: int = 0
    left_claimed: int = 0
    stop_seconds: float = 0.0
    ready_seconds: float = 0.0
    recover_seconds: float = 0.0
    unhandled_posts: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lost == self.twice == self.confirmed_duplicates == self.unhandled_posts == 0 and not self.notes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def posts(twilio: FakeTwilio, url: str, n: int) -> list[Post]:
    citizens = max(10, n // 8)
    made = []
    for number in range(n):
        who = random.randrange(citizens)
        if number % 2:
            chat = 7_000_000 + who
            update = {"update_id": 500_000 + number, "message": {
                "message_id": number, "date": int(time.time()), "text": random.choice(TEXTS),
                "from": {"id": chat, "is_bot": False, "first_name": "Ana", "language_code": "es"},
                "chat": {"id": chat, "type": "private", "first_name": "Ana"}}}
            made.append(Post("telegram", str(update["update_id"]), f"telegram:{chat}", json.dumps(update),
                             {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}))
        else:
            form = twilio.webhook("text", From=f"whatsapp:+54922155{who:05d}", Body=random.choice(TEXTS), MessageSid=new_sid())
            made.append(Post("whatsapp", form["MessageSid"], form["From"], urlencode(form),
                             {"Content-Type": "application/x-www-form-urlencoded",
                              "X-Twilio-Signature": twilio.signature(f"{url}/whatsapp", form)}))
    return made


def start(folder: Path, database_url: str, port: int, twilio: FakeTwilio, telegram: FakeBotApi) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "DATABASE_URL", "WHATSAPP_"))}
    url = f"http://127.0.0.1:{port}"
    env.update({
        "PYTHONPATH": str(ROOT), "DATA_DIR": str(folder / "data"), "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING",
        "WEB_HOST": "127.0.0.1", "WEB_PORT": str(port),
        "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": telegram.url,
        "TELEGRAM_WEBHOOK_URL": f"{url}/telegram", "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_WHATSAPP_FROM": OUR_NUMBER,
        "TWILIO_PUBLIC_URL": url, "TWILIO_API_BASE_URL": twilio.url,
    })
    log = open(folder / "run.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=folder, env=env, stdout=log, stderr=log)


async def healthy(url: str, process: subprocess.Popen) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if process.poll() is not None:
                raise SystemExit(f"onewindow run stopped (exit {process.returncode}); see its run.log")
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit("onewindow run did not become healthy")


async def hammer(url: str, todo: list[Post], concurrency: int, on_ack=None) -> None:
    """Post everything, ``concurrency`` at a time; mark what was answered 200."""
    queue: asyncio.Queue[Post] = asyncio.Queue()
    for post in todo:
        queue.put_nowait(post)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            post = queue.get_nowait()
            try:
                async with session.post(f"{url}/{post.channel}", data=post.body.encode(), headers=post.headers) as response:
                    await response.read()
                    if response.status == 200:
                        post.acknowledged = True
                        if on_ack:
                            on_ack()
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass  # not acknowledged: the channel sends it again

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))


def read_store(database_url: str) -> tuple[Counter, set, Counter, Counter]:
    """(inbound rows per (channel, id), ids waiting in the inbox, replies sent per address, replies being sent per address)."""
    database = make_engine(database_url)
    try:
        with database.connect() as conn:
            inbound = Counter((c, e) for c, e in conn.execute(text("SELECT channel, external_id FROM message WHERE direction = 'in'")))
            waiting = {("telegram", e) for (e,) in conn.execute(text("SELECT external_id FROM inbox"))}
            sent, sending = Counter(), Counter()
            for address, status in conn.execute(text("SELECT address, status FROM message WHERE direction = 'out'")):
                if status in ("sent", "delivered", "read"):
                    sent[address] += 1
                elif status == "sending":
                    sending[address] += 1
            return inbound, waiting, sent, sending
    finally:
        database.dispose()


def backlog(database_url: str) -> int:
    database = make_engine(database_url)
    try:
        with database.connect() as conn:
            return conn.execute(text("SELECT COUNT(*) FROM message WHERE direction = 'out' AND status IN ('queued', 'sending', 'retry')")).scalar()
    finally:
        database.dispose()


async def one_run(store: str, signal_name: str, args, postgres_admin) -> Figures:
    figures = Figures(store, signal_name)
    twilio, telegram = FakeTwilio().start(), FakeBotApi()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    schema = None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if store == "sqlite":
            database_url = f"sqlite:///{folder / 'store.sqlite3'}"
        else:
            schema = f"crash_{uuid.uuid4().hex[:10]}"
            with postgres_admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            database_url = f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
        process = None
        try:
            process = start(folder, database_url, port, twilio, telegram)
            await healthy(url, process)
            todo = posts(twilio, url, args.n)
            figures.posted = len(todo)
            acks = 0
            signalled = asyncio.Event()
            kill_at = max(1, int(args.at * len(todo)))
            sig = signal.SIGKILL if signal_name == "KILL" else signal.SIGTERM

            def on_ack():
                nonlocal acks
                acks += 1
                if acks == kill_at and not signalled.is_set():
                    process.send_signal(sig)
                    signalled.set()

            await hammer(url, todo, args.concurrency, on_ack)
            stopped = time.perf_counter()
            process.wait(timeout=120)
            figures.stop_seconds = time.perf_counter() - stopped
            acknowledged = [p for p in todo if p.acknowledged]
            figures.acknowledged = len(acknowledged)
            inbound, waiting, sent_before, sending = read_store(database_url)
            held = set(inbound) | waiting
            figures.stored = sum(1 for p in acknowledged if (p.channel, p.key) in held)
            figures.left_claimed = sum(sending.values())

            restarted = time.perf_counter()
            process = start(folder, database_url, port, twilio, telegram)
            await healthy(url, process)
            figures.ready_seconds = time.perf_counter() - restarted
            wanted = {(p.channel, p.key) for p in acknowledged}
            while True:
                inbound, waiting, _, _ = read_store(database_url)
                if (wanted <= set(inbound) and not waiting) or time.perf_counter() - restarted > SETTLE_SECONDS:
                    break
                await asyncio.sleep(0.05)
            figures.recover_seconds = time.perf_counter() - restarted
            again = [p for p in todo if not p.acknowledged]
            await hammer(url, again, args.concurrency)  # what Telegram and Twilio send again
            if any(not p.acknowledged for p in again):
                figures.notes.append(f"{sum(not p.acknowledged for p in again)} posts refused after the restart")
            everything = {(p.channel, p.key) for p in todo}
            until = time.perf_counter() + SETTLE_SECONDS
            while True:
                inbound, waiting, _, _ = read_store(database_url)
                if (everything <= set(inbound) and not waiting) or time.perf_counter() > until:
                    break
                await asyncio.sleep(0.1)
            figures.handled = sum(1 for key in wanted if inbound[key] >= 1)
            figures.lost = len(wanted) - figures.handled
            figures.twice = sum(1 for count in inbound.values() if count > 1)
            figures.unhandled_posts = sum(1 for key in everything if inbound[key] == 0)
            if figures.unhandled_posts:
                figures.notes.append(f"{figures.unhandled_posts} posts never handled, even after the resends")

            settle_until = time.perf_counter() + SETTLE_SECONDS
            while backlog(database_url) and time.perf_counter() < settle_until:
                await asyncio.sleep(0.5)
            await asyncio.sleep(1.0)  # a send the fake took but the outbox has not recorded yet
            _, _, sent_after, _ = read_store(database_url)
            received: Counter[str] = Counter()
            for request in twilio.requests:
                if request.status == 201:
                    received[request.to] += 1
            received.update(telegram.sent)
            for address, count in received.items():
                extra = count - sent_after[address]
                if extra > 0:
                    in_flight = sending[address]
                    figures.unconfirmed_duplicates += min(extra, in_flight)
                    figures.confirmed_duplicates += max(0, extra - in_flight)
            if backlog(database_url):
                figures.notes.append(f"{backlog(database_url)} replies still waiting after {SETTLE_SECONDS} s")
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        finally:
            if process is not None and process.poll() is None:
                process.kill()
            twilio.stop()
            telegram.stop()
            if schema:
                with postgres_admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    return figures


def print_figures(all_figures: list[Figures], args) -> None:
    print(f"{args.n} webhooks a run (half Telegram, half WhatsApp), concurrency {args.concurrency}, "
          f"signal after {args.at:.0%} of them were acknowledged; onewindow run as a real process, loopback fakes")
    header = f"{'store':10} {'signal':6} {'acked':>6} {'stored':>6} {'handled':>7} {'lost':>4} {'twice':>5} " \
             f"{'dup.confirmed':>13} {'dup.in-flight':>13} {'left claimed':>12} {'stop s':>6} {'ready s':>7} {'recover s':>9}"
    print(header)
    for f in all_figures:
        print(f"{f.store:10} {f.signal:6} {f.acknowledged:6} {f.stored:6} {f.handled:7} {f.lost:4} {f.twice:5} "
              f"{f.confirmed_duplicates:13} {f.unconfirmed_duplicates:13} {f.left_claimed:12} {f.stop_seconds:6.2f} {f.ready_seconds:7.2f} {f.recover_seconds:9.2f}")
        for note in f.notes:
            print(f"  {f.store} {f.signal}: {note}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="webhooks a run (default 1000)")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--at", type=float, default=0.4, help="signal once this share was acknowledged (default 0.4)")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--signals", default="KILL,TERM")
    args = parser.parse_args()
    random.seed(7)
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    admin = None
    if "postgresql" in stores:
        admin = make_engine(POSTGRES_URL)
        try:
            with admin.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as error:
            print(f"PostgreSQL at {POSTGRES_URL} is not reachable ({type(error).__name__}); SQLite only")
            stores.remove("postgresql")
    results = []
    for store in stores:
        for signal_name in [s.strip().upper() for s in args.signals.split(",") if s.strip()]:
            results.append(await one_run(store, signal_name, args, admin))
            print(f"  done: {store} {signal_name}", file=sys.stderr)
    if admin is not None:
        admin.dispose()
    print_figures(results, args)
    ok = all(f.ok for f in results)
    print("OK: nothing acknowledged was lost or handled twice; no confirmed reply went twice" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    asyncio.run(main())
