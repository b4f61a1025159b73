"""How many citizen messages a second the engine and the store take.

Pushes N synthetic messages (a realistic mix: menu presses, new requests with
their confirmation, status checks by code, help) through the engine into a
SQLite file (and PostgreSQL when DATABASE_URL is set), and prints messages
per second with p50 and p99 latency. For reference it also times a bare
python-telegram-bot ``Application.process_update`` with a no-op handler.

    python bench/inbound.py [-n 5000] [--citizens 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.catalog import Catalog  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.wiring import open_store  # noqa: E402
from flows.messages import Incoming  # noqa: E402
from flows.router import button_data  # noqa: E402
from storage.db import session_scope  # noqa: E402
from storage.models import Citizen, Conversation, Identity  # noqa: E402

REQUESTS = [
    "Mahallamizda 3 kundan beri svet yo'q",
    "Нет воды в доме уже неделю",
    "No hay agua en el barrio desde ayer",
    "I lost my passport and need a new one",
    "Yo'l buzilgan, chuqurlar ko'p, iltimos tuzating",
    "Necesito turno para el hospital",
    "Пособие по уходу за ребёнком не пришло",
    "Bolamni bog'chaga yozdirmoqchiman",
]


def seed_citizens(database, count: int) -> list[str]:
    """Citizens already onboarded and at the main menu."""
    addresses = []
    run_id = uuid.uuid4().hex[:8]  # a store that is reused (PostgreSQL) gets new citizens each run
    with session_scope(database) as session:
        for number in range(count):
            address = f"bench:{run_id}-{number}"
            citizen = Citizen(language=random.choice(["uz", "ru", "es", "en", "uz-Cyrl"]), locality_id="uz-syr-gulistan-d", consent=True)
            session.add(citizen)
            session.flush()
            session.add(Identity(channel="bench", address=address, citizen_id=citizen.id))
            session.add(Conversation(address=address, flow="menu", step="main", version=1))
            addresses.append(address)
    return addresses


class Citizens:
    """Each synthetic citizen's next message, following what the bot last said."""

    def __init__(self, addresses: list[str]):
        self.addresses = addresses
        self.pending: dict[str, tuple[str, str]] = {}  # address -> (menu_id, key) to press next
        self.codes: list[str] = []
        self.count = 0
        self.run_id = uuid.uuid4().hex[:8]

    def next_message(self) -> Incoming:
        self.count += 1
        address = random.choice(self.addresses)
        external_id = f"{self.run_id}-{self.count}"
        if address in self.pending:
            menu_id, key = self.pending.pop(address)
            return Incoming("bench", address, external_id=external_id, event={"type": "button", "data": button_data(int(menu_id), key)})
        roll = random.random()
        if roll < 0.35:
            text = random.choice(REQUESTS)
        elif roll < 0.6 and self.codes:
            text = random.choice(self.codes)
        elif roll < 0.8:
            text = "menu"
        else:
            text = random.choice(["help", "yordam", "ayuda", "помощь"])
        return Incoming("bench", address, text=text, external_id=external_id)

    def saw(self, msg: Incoming, handled) -> None:
        self.codes.extend(handled.request_codes)
        for reply in handled.replies:
            if reply.choices and any(c.key == "yes" for c in reply.choices) and msg.text in REQUESTS:
                self.pending[msg.address] = (reply.menu_id, "yes")


def run(url: str, n: int, citizens: int, threads: int = 1) -> tuple[float, list[float]]:
    """Push ``n`` messages; with ``threads`` > 1, that many workers at once,
    each speaking for its own share of the citizens (as a busy deployment
    with several webhook workers would)."""
    database = open_store(url)
    engine = Engine(database, Catalog.from_store(database))
    addresses = seed_citizens(database, citizens)
    groups = [Citizens(addresses[i::threads]) for i in range(threads)]
    for people in groups:
        for _ in range(20):  # warm up
            msg = people.next_message()
            people.saw(msg, engine.handle(msg))

    def work(people: Citizens, count: int) -> list[float]:
        latencies = []
        for _ in range(count):
            msg = people.next_message()
            t0 = time.perf_counter()
            handled = engine.handle(msg)
            latencies.append(time.perf_counter() - t0)
            people.saw(msg, handled)
        return latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(work, groups, [n // threads] * threads))
    elapsed = time.perf_counter() - started
    database.dispose()
    latencies = [x for part in results for x in part]
    return len(latencies) / elapsed, latencies


def ptb_reference(n: int) -> float:
    """A bare python-telegram-bot Application dispatching to a no-op handler."""
    from telegram import Update, User
    from telegram.ext import Application, ExtBot, TypeHandler

    class OfflineBot(ExtBot):
        """Knows who it is without asking Telegram (there is no network here)."""

        async def get_me(self, *args, **kwargs) -> User:
            self._bot_user = User(1, "bench", True, username="bench_bot")
            return self._bot_user

    async def noop(update, context):
        return None

    async def main() -> float:
        app = Application.builder().bot(OfflineBot("123456:BENCH")).updater(None).build()
        app.add_handler(TypeHandler(Update, noop))
        await app.initialize()
        updates = [
            Update.de_json({"update_id": i, "message": {"message_id": i, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "hi"}}, app.bot)
            for i in range(n)
        ]
        started = time.perf_counter()
        for update in updates:
            await app.process_update(update)
        return n / (time.perf_counter() - started)

    return asyncio.run(main())


def report(name: str, rate: float, latencies: list[float]) -> None:
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{name:<12} {rate:8.0f} msg/s   p50 {cuts[49] * 1000:6.2f} ms   p99 {cuts[98] * 1000:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000, help="messages to push (default 5000)")
    parser.add_argument("--citizens", type=int, default=200)
    parser.add_argument("--threads", type=int, default=4, help="concurrent workers for PostgreSQL (default 4)")
    args = parser.parse_args()
    random.seed(7)
    print(f"{args.n} messages from {args.citizens} citizens (35% requests + confirmations, status checks, menu, help)")
    with tempfile.TemporaryDirectory() as folder:
        sqlite_rate, latencies = run(f"sqlite:///{folder}/bench.sqlite3", args.n, args.citizens)
    report("sqlite file", sqlite_rate, latencies)
    if os.environ.get("DATABASE_URL"):
        rate, latencies = run(os.environ["DATABASE_URL"], args.n, args.citizens)
        report("postgresql", rate, latencies)
        rate, latencies = run(os.environ["DATABASE_URL"], args.n, args.citizens, args.threads)
        report(f"postgresql×{args.threads}", rate, latencies)
    reference = ptb_reference(args.n)
    print(f"{'PTB no-op':<12} {reference:8.0f} updates/s (Application.process_update, nothing stored)")
    print(f"ratio        engine on SQLite / bare PTB dispatch = {sqlite_rate / reference:.3f}")


if __name__ == "__main__":
    main()
