"""How many citizen messages a second the message path takes, beside its framework.

Every figure starts from the same thing: raw Telegram update JSON, as a
webhook receives it. Printed side by side, in one run:

(a) python-telegram-bot alone: ``json.loads``, ``Update.de_json`` and
    ``Application.process_update`` to a handler that does nothing, nothing
    stored — the reference;
(b) the project's path on a SQLite file, as ``onewindow run`` does it for a
    webhook: the update read by the adapter (``handlers.telegram_updates``),
    stored in the inbox, handled by the engine (flows, classifier, one
    transaction with the replies), and the inbox row cleared;
(c) the same on PostgreSQL (``DATABASE_URL``) with 1, 2 and 4 processes,
    each handling its own citizens, all at once.

The traffic is a realistic mix from citizens already at the main menu: new
requests in five languages followed by the press of their confirmation
button, status checks by tracking code, the menu, help. Each rate comes
with p50 and p99 latency, and (b) and (c) with their ratio to (a).
Targets: (b) at least 0.4 of (a); (c) at least 1,500 a second with four
processes.

Each store is measured twice: updates arriving one at a time, and arriving
``--together`` at a time, as a busy webhook delivers them: stored in one
commit, then handled in one transaction (group commit); each update's
latency is then its group's.

    python bench/inbound.py [-n 5000] [--citizens 200] [--processes 1,2,4] [--together 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.router import button_data  # noqa: E402

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
DATE = 1_760_000_000


def offline_bot():
    """python-telegram-bot's own bot object, knowing who it is and answering
    button presses without asking Telegram (there is no network here)."""
    from telegram import User
    from telegram.ext import ExtBot

    class OfflineBot(ExtBot):
        async def get_me(self, *args, **kwargs) -> User:
            self._bot_user = User(1, "bench", True, username="bench_bot")
            return self._bot_user

    bot = OfflineBot("123456:BENCH")
    bot._bot_user = User(1, "bench", True, username="bench_bot")
    return bot


class Citizens:
    """Each synthetic citizen's next update, following what the bot last said."""

    def __init__(self, chat_ids: list[int], seed: int):
        self.chat_ids = chat_ids
        self.random = random.Random(seed)
        self.pending: dict[int, str] = {}  # chat id -> button data to press next
        self.codes: list[str] = []
        # a reused store (PostgreSQL) has this run's update ids for the first time: none is a redelivery
        self.update_id = random.SystemRandom().randrange(10**12, 10**15)

    def next_update(self) -> str:
        """The raw JSON of the next update, as Telegram posts it."""
        self.update_id += 1
        chat_id = self.random.choice(self.chat_ids)
        person = {"id": chat_id, "is_bot": False, "first_name": "Bench", "language_code": "uz"}
        chat = {"id": chat_id, "type": "private", "first_name": "Bench"}
        if chat_id in self.pending:
            update = {"update_id": self.update_id, "callback_query": {
                "id": str(self.update_id), "from": person, "chat_instance": "1", "data": self.pending.pop(chat_id),
                "message": {"message_id": 1, "date": DATE, "chat": chat, "text": "?"}}}
        else:
            update = {"update_id": self.update_id, "message": {
                "message_id": self.update_id, "date": DATE, "chat": chat, "from": person, "text": self._text()}}
        return json.dumps(update)

    def _text(self) -> str:
        roll = self.random.random()
        if roll < 0.35:
            return self.random.choice(REQUESTS)
        if roll < 0.6 and self.codes:
            return self.random.choice(self.codes)
        if roll < 0.8:
            return "menu"
        return self.random.choice(["help", "yordam", "ayuda", "помощь"])

    def saw(self, incoming, handled) -> None:
        self.codes.extend(handled.request_codes)
        for reply in handled.replies:
            if reply.choices and any(c.key == "yes" for c in reply.choices) and incoming.text in REQUESTS:
                self.pending[int(incoming.address.split(":")[1])] = button_data(int(reply.menu_id), "yes")


def seed_citizens(database_url: str, count: int) -> list[int]:
    """Telegram citizens already onboarded and at the main menu."""
    from bot.wiring import open_store
    from storage.db import session_scope
    from storage.models import Citizen, Conversation, Identity

    database = open_store(database_url)
    base = random.randrange(10**9, 2 * 10**9)  # a reused store (PostgreSQL) gets new citizens each run
    with session_scope(database) as session:
        for number in range(count):
            address = f"telegram:{base + number}"
            citizen = Citizen(language=random.choice(["uz", "ru", "es", "en", "uz-Cyrl"]), locality_id="uz-syr-gulistan-d", consent=True)
            session.add(citizen)
            session.flush()
            session.add(Identity(channel="telegram", address=address, citizen_id=citizen.id))
            session.add(Conversation(address=address, flow="menu", step="main", version=1))
    database.dispose()
    return [base + number for number in range(count)]


class MessagePath:
    """What ``onewindow run`` does with one webhook update, without the HTTP:
    the Telegram inbox's own store and handling, called in turn."""

    def __init__(self, database_url: str):
        from bot.catalog import Catalog
        from bot.engine import Engine
        from bot.wiring import open_store
        from handlers.telegram_inbox import TelegramInbox

        self.database = open_store(database_url)
        self.bot = offline_bot()
        self.inbox = TelegramInbox(self.bot, Engine(self.database, Catalog.from_store(self.database)), self.database)

    def take(self, raws: list[str]) -> list:
        """``raws`` arriving together: stored in one commit (before Telegram
        hears back), then handled in one transaction, as the inbox's worker
        does with what waits in its queue."""
        from handlers.telegram_inbox import _Item
        from handlers.telegram_updates import read_update

        read = [read_update(json.loads(raw), self.bot) for raw in raws]
        ids = self.inbox._store([(str(update.update_id), raw) for raw, (update, _) in zip(raws, read)])
        items = [_Item(item_id, update, incoming) for item_id, (update, incoming) in zip(ids, read)]
        return list(zip([item.incoming for item in items], self.inbox._handle_now(items)))


def run_share(database_url: str, chat_ids: list[int], n: int, seed: int, together: int = 1, go=None, results=None):
    """Handle ``n`` updates from ``chat_ids``' citizens, ``together`` at a
    time (each waits for its group: that is its latency); with ``go``, as
    one of several processes that start together."""
    path = MessagePath(database_url)
    people = Citizens(chat_ids, seed)
    for _ in range(20):  # warm up
        for seen in path.take([people.next_update()]):
            people.saw(*seen)
    if go is not None:
        results.put(("ready",))
        go.wait()
    latencies = []
    started = time.monotonic()
    for _ in range(n // together):
        raws = [people.next_update() for _ in range(together)]
        t0 = time.perf_counter()
        seen = path.take(raws)
        latencies += [time.perf_counter() - t0] * together
        for incoming, handled in seen:
            people.saw(incoming, handled)
    finished = time.monotonic()
    path.database.dispose()
    if results is None:
        return started, finished, latencies
    results.put((started, finished, latencies))


def in_processes(database_url: str, chat_ids: list[int], n: int, processes: int, together: int) -> tuple[float, list[float]]:
    spawn = multiprocessing.get_context("spawn")
    go, results = spawn.Event(), spawn.Queue()
    workers = [spawn.Process(target=run_share, args=(database_url, chat_ids[i::processes], n // processes, 100 + i, together, go, results))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    for _ in workers:
        assert results.get(timeout=300) == ("ready",)
    go.set()
    parts = [results.get(timeout=900) for _ in workers]
    for worker in workers:
        worker.join(30)
    latencies = [x for _, _, part in parts for x in part]
    elapsed = max(f for _, f, _ in parts) - min(s for s, _, _ in parts)
    return len(latencies) / elapsed, latencies


def ptb_reference(raws: list[str]) -> tuple[float, list[float]]:
    """(a): python-telegram-bot reading the same JSON and dispatching it to a no-op handler."""
    from telegram import Update
    from telegram.ext import Application, TypeHandler

    async def noop(update, context):
        return None

    async def main() -> tuple[float, list[float]]:
        app = Application.builder().bot(offline_bot()).updater(None).build()
        app.add_handler(TypeHandler(Update, noop))
        await app.initialize()
        for raw in raws[:200]:  # warm up
            await app.process_update(Update.de_json(json.loads(raw), app.bot))
        latencies = []
        started = time.perf_counter()
        for raw in raws:
            t0 = time.perf_counter()
            await app.process_update(Update.de_json(json.loads(raw), app.bot))
            latencies.append(time.perf_counter() - t0)
        return len(raws) / (time.perf_counter() - started), latencies

    return asyncio.run(main())


def _arriving(together: int) -> str:
    return f", {together} at a time" if together > 1 else ""


def report(name: str, rate: float, latencies: list[float], reference: float | None = None) -> None:
    cuts = statistics.quantiles(latencies, n=100)
    ratio = f"   {rate / reference:5.3f} of (a)" if reference else ""
    print(f"{name:<26} {rate:8.0f} /s   p50 {cuts[49] * 1000:6.2f} ms   p99 {cuts[98] * 1000:6.2f} ms{ratio}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000, help="updates per figure (default 5000)")
    parser.add_argument("--citizens", type=int, default=200)
    parser.add_argument("--processes", default="1,2,4", help="PostgreSQL process counts (default 1,2,4)")
    parser.add_argument("--together", type=int, default=20,
                        help="also measure updates arriving this many at a time, handled in one transaction (default 20; 1: not)")
    args = parser.parse_args()
    print(f"{args.n} updates from {args.citizens} citizens (35% requests + their confirmation button, status checks, menu, help)")

    people = Citizens(list(range(1, args.citizens + 1)), 1)
    reference, latencies = ptb_reference([people.next_update() for _ in range(args.n)])
    report("(a) PTB de_json + no-op", reference, latencies)

    modes = [1] if args.together == 1 else [1, args.together]
    for together in modes:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.sqlite3"
            started, finished, latencies = run_share(url, seed_citizens(url, args.citizens), args.n, 7, together)
        report(f"(b) SQLite file{_arriving(together)}", args.n / (finished - started), latencies, reference)

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgresql"):
        print("(c) PostgreSQL: set DATABASE_URL=postgresql://... to measure it")
        return
    for together in modes:
        rates = {}
        for processes in [int(p) for p in args.processes.split(",")]:
            rates[processes], latencies = in_processes(database_url, seed_citizens(database_url, args.citizens), args.n, processes, together)
            name = f"(c) PostgreSQL, {processes} process{'es' if processes > 1 else ''}{_arriving(together)}"
            report(name, rates[processes], latencies, reference)
        if 1 in rates and len(rates) > 1:
            print("scaling: " + ", ".join(f"{p} processes {rate / rates[1]:.2f}x" for p, rate in rates.items() if p != 1))
    print(f"on {os.cpu_count()} CPUs (PostgreSQL and the processes share them)")


if __name__ == "__main__":
    main()
