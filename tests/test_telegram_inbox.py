"""Telegram's webhook and long polling: an update is stored before Telegram
is told we have it, handled once, and what cannot be read is refused (400)
with nothing stored. The real python-telegram-bot against the emulator, the
real ASGI app, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.settings import Settings
from bot.web import create_app
from bot.wiring import build
from handlers.telegram import TelegramSender, build_application
from handlers.telegram_inbox import TelegramInbox
from handlers.telegram_updates import BadUpdate, read_update
from storage.db import session_scope
from storage.models import InboxItem, Message

SECRET = "s3cret-token_for-tests"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
FIXTURES = Path(__file__).with_name("fixtures") / "telegram"


def hello(update_id: int, user_id: int, text: str = "Hola") -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Rosa", "language_code": "es"}
    return {
        "update_id": update_id,
        "message": {"message_id": update_id, "date": 1_763_700_000, "text": text, "from": user,
                    "chat": {"id": user_id, "type": "private", "first_name": "Rosa"}},
    }


def changed(path: str, value) -> dict:
    """A good update with one field (``message.date``, ``message.chat.id``) set to ``value``."""
    update = hello(41, 8141)
    *parents, last = path.split(".")
    node = update
    for key in parents:
        node = node[key]
    node[last] = value
    return update


class Bot:
    """The pieces of ``onewindow run`` a webhook needs, on one store."""

    def __init__(self, telegram_emulator, database_url: str, token: str | None = None):
        self.token = token or telegram_emulator.new_token()
        self.emulator = telegram_emulator
        self.bot = build(Settings(database_url=database_url))
        self.telegram = build_application(self.token, telegram_emulator.url)
        self.inbox: TelegramInbox | None = None

    async def __aenter__(self):
        await self.telegram.initialize()
        self.bot.outbox.add_sender(TelegramSender(self.telegram.bot))
        self.inbox = TelegramInbox(self.telegram.bot, self.bot.engine, self.bot.database)
        self._outbox = asyncio.create_task(self.bot.outbox.run(idle_seconds=0.05))
        app = create_app(self.bot, self.inbox, SECRET)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test")
        return self

    async def __aexit__(self, *exc):
        await self.client.aclose()
        await self.inbox.stop()
        self.bot.outbox.stop()
        await self._outbox
        await self.telegram.shutdown()
        self.bot.database.dispose()

    async def post(self, body, **kw) -> httpx.Response:
        content = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return await self.client.post("/telegram", content=content, headers={**HEADERS, "Content-Type": "application/json"}, **kw)

    def rows(self, model, **where) -> list:
        with session_scope(self.bot.database) as session:
            statement = select(model)
            for name, value in where.items():
                statement = statement.where(getattr(model, name) == value)
            return list(session.exec(statement))

    async def until(self, check, timeout: float = 10.0):
        for _ in range(int(timeout / 0.05)):
            if result := check():
                return result
            await asyncio.sleep(0.05)
        raise AssertionError("timed out")


@pytest.fixture
async def bot(telegram_emulator, database_url):
    async with Bot(telegram_emulator, database_url) as bot:
        yield bot


ODD_BODIES = {
    "a list": [],
    "a number": 123,
    "a string": "str",
    "an empty object": {},
    "no update_id": {"message": hello(1, 8101)["message"]},
    "update_id as a string": changed("update_id", "41"),
    "a date in words": changed("message.date", "yesterday"),
    "a date out of range": changed("message.date", 10**20),
    "no date": changed("message.date", None),
    "text as a number": changed("message.text", 5),
    "the chat as a string": changed("message.chat", "abc"),
    "a chat id in words": changed("message.chat.id", "abc"),
    "a first name as a number": changed("message.from.first_name", 7),
    "a language code as a list": changed("message.from.language_code", ["es"]),
    "a latitude in words": changed("message.location", {"latitude": "north", "longitude": 1.0}),
    "a latitude past the pole": changed("message.location", {"latitude": 91.0, "longitude": 1.0}),
    "a photo without its sizes": changed("message.photo", [{"file_id": "x"}]),
    "button data as a number": {"update_id": 42, "callback_query": {"id": "1", "chat_instance": "1", "data": 5,
                                 "from": {"id": 8142, "is_bot": False, "first_name": "Rosa"}}},
}


@pytest.mark.parametrize("body", ODD_BODIES.values(), ids=ODD_BODIES.keys())
async def test_odd_bodies_are_refused_with_a_reason_and_nothing_is_stored(bot, body):
    await bot.inbox.start()
    response = await bot.post(body)
    assert response.status_code == 400 and response.text
    await asyncio.sleep(0.1)
    assert bot.rows(InboxItem) == [] and bot.rows(Message) == []


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe{}", b"[" * 100_000])
async def test_bodies_that_are_not_json_are_refused(bot, body):
    assert (await bot.post(body)).status_code == 400


async def test_a_huge_body_is_refused_without_being_read(bot):
    """Streamed (no Content-Length), 200 MB: refused after the first megabyte."""
    read = []

    async def chunks():
        for _ in range(200):
            read.append(1)
            yield b" " * 1_000_000

    response = await bot.client.post("/telegram", content=chunks(), headers=HEADERS)
    assert response.status_code == 413
    assert len(read) <= 3


def test_every_saved_update_reads():
    from telegram import Bot as PTBBot

    for path in sorted(FIXTURES.glob("*.json")):
        read_update(json.loads(path.read_text("utf-8")), PTBBot("1:x"))


def test_a_reason_is_short_and_says_what_is_wrong():
    from telegram import Bot as PTBBot

    with pytest.raises(BadUpdate, match="text and caption must be strings"):
        read_update(changed("message.text", 5), PTBBot("1:x"))


async def test_an_update_is_stored_before_the_200_and_handled_after_a_restart(telegram_emulator, database_url):
    """Workers not started (as if the process died right after answering):
    the 200 means the update is in the store; the next start handles it."""
    async with Bot(telegram_emulator, database_url) as bot:
        rosa = telegram_emulator.user(bot.token, 8201, "Rosa", language_code="es")
        response = await bot.post(hello(51, 8201))
        assert response.status_code == 200
        [stored] = bot.rows(InboxItem)
        assert stored.external_id == "51" and json.loads(stored.payload) == hello(51, 8201)
        assert bot.rows(Message) == []
        bot.inbox._workers = []  # nothing was handling it

    async with Bot(telegram_emulator, database_url, bot.token) as restarted:
        assert await restarted.inbox.start() == 1
        await rosa.wait_for("¡Hola! Soy onewindow")
        await restarted.until(lambda: restarted.rows(InboxItem) == [])
        assert [m.external_id for m in restarted.rows(Message, direction="in")] == ["51"]


async def test_updates_waiting_for_a_worker_are_handled_together_and_each_answered(telegram_emulator, database_url):
    """What waits in the inbox when a worker comes to it (after a restart,
    or while it was busy) is handled in one transaction: one commit for
    them all, and every citizen still gets their own answer."""
    async with Bot(telegram_emulator, database_url) as bot:
        from storage import inbox

        with bot.bot.database.begin() as conn:
            inbox.store(conn, "telegram", [(str(70 + n), json.dumps(hello(70 + n, 8700 + n))) for n in range(6)])
        people = [telegram_emulator.user(bot.token, 8700 + n, "Rosa", language_code="es") for n in range(6)]
        handle_together, batches = bot.bot.engine.handle_together, []

        def counted(messages, **kwargs):
            batches.append(len(messages))
            return handle_together(messages, **kwargs)

        bot.bot.engine.handle_together = counted
        assert await bot.inbox.start() == 6
        for person in people:
            await person.wait_for("¡Hola! Soy onewindow")
        await bot.until(lambda: bot.rows(InboxItem) == [])
        assert sum(batches) == 6 and len(batches) <= len(bot.inbox._queues)  # one transaction per worker (SQLite: one worker)
        assert sorted(m.external_id for m in bot.rows(Message, direction="in")) == [str(70 + n) for n in range(6)]


async def test_a_redelivered_update_is_handled_once(bot):
    await bot.inbox.start()
    rosa = bot.emulator.user(bot.token, 8301, "Rosa", language_code="es")
    update = hello(61, 8301)
    answers = await asyncio.gather(*(bot.post(copy.deepcopy(update)) for _ in range(5)))
    assert {a.status_code for a in answers} == {200}
    await rosa.wait_for("¡Hola! Soy onewindow")
    await bot.until(lambda: bot.rows(InboxItem) == [])
    assert len(bot.rows(Message, direction="in")) == 1
    await asyncio.sleep(0.3)
    replies = bot.rows(Message, direction="out")
    assert replies and all(m.status == "sent" for m in replies)
    assert len(await bot.emulator.calls(bot.token, "sendMessage")) == len(replies)  # each sent once


async def test_an_update_stored_twice_across_a_crash_is_answered_once(telegram_emulator, database_url):
    """Handled, then the process died before the inbox row went: the next
    start handles it again, and the engine knows it already."""
    async with Bot(telegram_emulator, database_url) as bot:
        await bot.inbox.start()
        rosa = telegram_emulator.user(bot.token, 8401, "Rosa", language_code="es")
        assert (await bot.post(hello(71, 8401))).status_code == 200
        await rosa.wait_for("¡Hola! Soy onewindow")
        await bot.until(lambda: bot.rows(InboxItem) == [])
        from storage import inbox

        with bot.bot.database.begin() as conn:
            inbox.store(conn, "telegram", [("71", json.dumps(hello(71, 8401)))])

    async with Bot(telegram_emulator, database_url, bot.token) as restarted:
        await restarted.inbox.start()
        await restarted.until(lambda: restarted.rows(InboxItem) == [])
        assert len(restarted.rows(Message, direction="in")) == 1
        await asyncio.sleep(0.3)
        replies = restarted.rows(Message, direction="out")
        assert replies and all(m.status == "sent" for m in replies)
        assert len(await telegram_emulator.calls(bot.token, "sendMessage")) == len(replies)


async def test_long_polling_moves_the_offset_only_past_stored_updates(telegram_emulator, database_url):
    """The store refuses the first batch: Telegram must send it again."""
    async with Bot(telegram_emulator, database_url) as bot:
        await bot.inbox.start()
        store, refused = bot.inbox._store, []

        def failing_once(payloads):
            if not refused:
                refused.append(payloads)
                raise ConnectionError("the store is away")
            return store(payloads)

        bot.inbox._store = failing_once
        await bot.telegram.bot.delete_webhook()
        stop = asyncio.Event()
        polling = asyncio.create_task(bot.inbox.poll(stop, timeout=1))
        dilnoza = telegram_emulator.user(bot.token, 8501, "Dilnoza", language_code="uz")
        await dilnoza.send("Salom")
        await dilnoza.wait_for("Assalomu alaykum! Men onewindow")
        stop.set()
        await polling
        assert refused, "the store was never asked"
        assert [m.external_id for m in bot.rows(Message, direction="in")] == [json.loads(refused[0][0][1])["update_id"].__str__()]


async def test_webhooks_arriving_together_are_stored_together(bot):
    """Group commit: updates that come while a commit is under way share the
    next one; each webhook still answers only once its update is stored."""
    await bot.inbox.start()
    store, commits = bot.inbox._store, []

    def slow_commit(payloads):
        commits.append(len(payloads))
        time.sleep(0.05)  # a flush to disk takes a moment; meanwhile more arrive
        return store(payloads)

    bot.inbox._store = slow_commit
    answers = await asyncio.gather(*(bot.post(hello(900 + n, 8600 + n)) for n in range(20)))
    assert {a.status_code for a in answers} == {200}
    assert sum(commits) == 20 and len(commits) <= 3  # not twenty commits
    await bot.until(lambda: bot.rows(InboxItem) == [])
    assert sorted(int(m.external_id) for m in bot.rows(Message, direction="in")) == list(range(900, 920))


async def test_a_failed_group_commit_fails_every_update_in_it_and_stores_none(bot):
    await bot.inbox.start()
    store, broken = bot.inbox._store, [True]

    def commit(payloads):
        if broken[0]:
            time.sleep(0.02)
            raise ConnectionError("the store is away")
        return store(payloads)

    bot.inbox._store = commit
    results = await asyncio.gather(*(bot.inbox.receive(hello(950 + n, 8700 + n)) for n in range(6)), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)  # no 200 for any: Telegram sends them again
    assert bot.rows(InboxItem) == [] and bot.rows(Message) == []
    broken[0] = False
    await asyncio.gather(*(bot.inbox.receive(hello(950 + n, 8700 + n)) for n in range(6)))
    await bot.until(lambda: len(bot.rows(Message, direction="in")) == 6)
