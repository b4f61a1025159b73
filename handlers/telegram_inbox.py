"""Telegram updates in: stored, then acknowledged, then handled.

Telegram forgets an update once it is told we have it: a 200 to its webhook,
or an offset past it in the next ``getUpdates``. So every update is first
committed to the store's inbox (:mod:`storage.inbox`), and only then is
Telegram told; the engine handles it right after, from an in-process queue,
and the inbox row goes once the engine has the message. What a crash leaves
in the inbox is handled on the next start (:meth:`TelegramInbox.start`).
Webhooks that arrive together are committed together (group commit: one
transaction and one flush to disk), each answered once its update is in.
Handling an update twice is harmless: the engine keys every message by the
update id, so a redelivery, a re-run after a crash or a second process
starting does nothing twice.

Long polling is a loop of our own (:meth:`TelegramInbox.poll`) rather than
python-telegram-bot's ``Updater``, which moves the offset on before its
handlers run; python-telegram-bot still reads the updates (``Update.de_json``,
see :mod:`handlers.telegram_updates`) and sends the replies.

Updates are handled by a few workers, each owning the chats whose address
hashes to it, so one chat's messages are handled in the order they came (on
SQLite one worker: it has one writer anyway). What waits in a worker's queue
when it comes to it is handled together, in one transaction
(:meth:`bot.engine.Engine.handle_together`): under load, one commit for many.
"""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
import zlib
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.error import RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from flows.masking import log_failure
from flows.messages import Incoming
from handlers.telegram import CHANNEL, retry_after_seconds
from handlers.telegram_updates import BadUpdate, read_update
from handlers.together import Together
from storage import inbox
from storage import message_path as path

if TYPE_CHECKING:
    from bot.engine import Handled

log = logging.getLogger(__name__)
POLL_TIMEOUT = 10  # seconds a getUpdates call waits for news (Telegram's long poll)
QUEUE = 1000  # updates waiting in memory per worker; past that, receiving waits
TOGETHER = 50  # updates of one worker's queue handled in one transaction at most
MAX_BACKOFF = 30.0
SECOND_POLLER = (
    "Another process is polling Telegram with this bot's token (Telegram: 'terminated by other getUpdates request'). "
    "Long polling is one process only: stop the other onewindow run, or set TELEGRAM_WEBHOOK_URL so that several "
    "processes can share the work behind one webhook."
)

# getUpdates is asked through do_api_request, which hands back Telegram's raw
# JSON (to be stored as sent) and warns that Bot.get_updates exists.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)


class InboxClosed(Exception):
    """The bot is stopping and takes no new updates."""


@dataclass(frozen=True)
class _Item:
    item_id: int
    update: Update
    incoming: Incoming


class TelegramInbox:
    def __init__(self, bot, engine, database, *, workers: int | None = None):
        self.bot, self.engine, self.database = bot, engine, database
        sqlite = database.dialect.name == "sqlite"
        self._queues: list[asyncio.Queue[_Item]] = [asyncio.Queue(QUEUE) for _ in range(workers or (1 if sqlite else 4))]
        self._workers: list[asyncio.Task] = []
        self._handling: set[asyncio.Future] = set()
        self._closed = False
        self._storing = Together(self._store_each)  # updates for the next commit

    # -- the life of the inbox ------------------------------------------------

    async def start(self) -> int:
        """Start the workers and hand them what an earlier run stored and did
        not handle, oldest first. Returns how many that were."""
        self._workers = [asyncio.create_task(self._work(queue), name=f"telegram-inbox-{n}") for n, queue in enumerate(self._queues)]
        rows = await asyncio.to_thread(self._pending)
        for item_id, external_id, payload in rows:
            try:
                update, incoming = read_update(json.loads(payload), self.bot)
            except (BadUpdate, ValueError):  # stored by a version that read it; keep it for a person
                log.warning("stored Telegram update %s cannot be read any more; left in the inbox", external_id)
                continue
            if incoming is not None:
                await self._enqueue(_Item(item_id, update, incoming))
        return len(rows)

    async def stop(self) -> None:
        """Take nothing new, finish the updates being handled; what is
        queued stays stored and is handled on the next start."""
        self._closed = True
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        if self._handling:
            await asyncio.wait(set(self._handling))

    # -- receiving ------------------------------------------------------------

    async def receive(self, data: Any) -> None:
        """One update from the webhook: stored when this returns (or
        :class:`BadUpdate`, and nothing stored)."""
        update, incoming = read_update(data, self.bot)
        await self._accept([(data, update, incoming)])

    async def poll(self, stop: asyncio.Event, *, interval: float = 0.0, timeout: float = POLL_TIMEOUT) -> None:
        """Long polling until ``stop`` is set. The offset that confirms
        updates to Telegram moves past them only once they are stored."""
        offset: int | None = None
        confirmed = True
        failures = 0
        told_of_conflict = False
        while not stop.is_set():
            try:
                batch = await _unless(stop, self._get_updates(offset, timeout))
            except asyncio.CancelledError:
                if stop.is_set():
                    break
                raise
            except TelegramError as error:  # the network, a conflict, a flood limit: wait and ask again
                if "terminated by other getUpdates" in str(error) and not told_of_conflict:
                    log.error(SECOND_POLLER)
                    told_of_conflict = True
                failures += 1
                delay = retry_after_seconds(error) if isinstance(error, RetryAfter) else min(MAX_BACKOFF, 2.0**failures)
                log.warning("Telegram getUpdates failed (%s); trying again in %.0f s", type(error).__name__, delay)
                await _sleep(stop, delay)
                continue
            confirmed = True  # that call confirmed everything below the offset
            ids = [u["update_id"] for u in batch if isinstance(u, dict) and type(u.get("update_id")) is int]
            if ids:
                try:
                    await self._accept(self._readable(batch))
                except Exception:  # the offset stays: Telegram sends them again
                    failures += 1
                    log.exception("could not store %d Telegram updates; asking for them again", len(ids))
                    await _sleep(stop, min(MAX_BACKOFF, 2.0**failures))
                    continue
                offset, confirmed = max(ids) + 1, False
            failures = 0
            if interval:
                await _sleep(stop, interval)
        if not confirmed:
            await self._confirm(offset)

    def _readable(self, batch: list) -> list[tuple[Any, Update, Incoming | None]]:
        found = []
        for data in batch:
            try:
                found.append((data, *read_update(data, self.bot)))
            except BadUpdate as error:
                log.warning("Telegram update %s cannot be read; skipped", data.get("update_id") if isinstance(data, dict) else "?")
                log.debug("unreadable update: %s", error)
        return found

    async def _get_updates(self, offset: int | None, timeout: float) -> list:
        kwargs = {"timeout": int(timeout)} if offset is None else {"offset": offset, "timeout": int(timeout)}
        result = await self.bot.do_api_request("getUpdates", api_kwargs=kwargs, read_timeout=timeout + 10)
        return result if isinstance(result, list) else []

    async def _confirm(self, offset: int) -> None:
        """Tell Telegram what is stored, without waiting for news (on stop)."""
        try:
            await self.bot.do_api_request("getUpdates", api_kwargs={"offset": offset, "limit": 1, "timeout": 0})
        except TelegramError as error:  # Telegram sends them again; handling them twice is harmless
            log.warning("could not confirm the stored updates to Telegram (%s)", type(error).__name__)

    async def _accept(self, updates: list[tuple[Any, Update, Incoming | None]]) -> None:
        if self._closed:
            raise InboxClosed
        mine = [(data, update, incoming) for data, update, incoming in updates if incoming is not None]
        if not mine:
            return  # nothing for us in them (a member joined a group...): nothing to store
        payloads = [(str(update.update_id), json.dumps(data)) for data, update, _ in mine]
        ids = await self._store_together(payloads)
        for item_id, (_data, update, incoming) in zip(ids, mine):
            if item_id is not None:  # None: the same update is already waiting
                await self._enqueue(_Item(item_id, update, incoming))

    async def _enqueue(self, item: _Item) -> None:
        shard = zlib.crc32(item.incoming.address.encode()) % len(self._queues)
        await self._queues[shard].put(item)

    # -- handling -------------------------------------------------------------

    async def _work(self, queue: asyncio.Queue[_Item]) -> None:
        while True:
            items = [await queue.get()]
            while len(items) < TOGETHER and not queue.empty():
                items.append(queue.get_nowait())  # what arrived meanwhile is handled in one transaction
            # Stopping cancels the worker, never the updates being handled.
            handling = asyncio.ensure_future(self._handle(items))
            self._handling.add(handling)
            handling.add_done_callback(self._handling.discard)
            await asyncio.shield(handling)

    async def _handle(self, items: list[_Item]) -> None:
        await asyncio.gather(*(self._answer(item.update) for item in items if item.update.callback_query))
        try:
            await asyncio.to_thread(self._handle_now, items)
        except Exception:
            ids = ", ".join(str(item.update.update_id) for item in items)
            log_failure(log, "could not handle Telegram updates %s; they stay stored and are tried on the next start", ids)

    async def _answer(self, update: Update) -> None:
        try:
            await update.callback_query.answer()
        except TelegramError:  # an old button, pressed before a restart: nothing to answer
            log.debug("could not answer callback query of update %s", update.update_id)

    def _handle_now(self, items: list[_Item]) -> list[Handled]:
        # The raw update goes in the transaction that stores the message:
        # one commit fewer, and never one without the other.
        done = self.engine.handle_together([item.incoming for item in items], also=[partial(inbox.done, item_id=item.item_id) for item in items])
        left = [(item, handled) for item, handled in zip(items, done) if not handled.also_done]
        if left:
            with self.database.begin() as conn:
                for item, handled in left:
                    if handled.failed and not path.inbound_exists(conn, CHANNEL, item.incoming.external_id):
                        inbox.failed(conn, item.item_id, "the engine could not store the message")
                    else:
                        inbox.done(conn, item.item_id)
        return done

    # -- the store --------------------------------------------------------------

    async def _store_together(self, payloads: list[tuple[str, str]]) -> list[int | None]:
        """Store ``payloads`` and return when they are committed. Webhooks
        that arrive while a commit is under way are stored together in the
        next one (group commit, :mod:`handlers.together`): one transaction
        and one flush to disk for many updates, and still no update
        acknowledged before it is stored. If that commit fails, every update
        in it fails (Telegram sends them again)."""
        return await self._storing.submit(payloads)

    def _store_each(self, groups: list[list[tuple[str, str]]]) -> list[list[int | None]]:
        ids = self._store([payload for payloads in groups for payload in payloads])
        each, at = [], 0
        for payloads in groups:
            each.append(ids[at:at + len(payloads)])
            at += len(payloads)
        return each

    def _store(self, payloads: list[tuple[str, str]]) -> list[int | None]:
        with self.database.begin() as conn:
            return inbox.store(conn, CHANNEL, payloads)

    def _pending(self) -> list:
        with self.database.connect() as conn:
            return inbox.pending(conn, CHANNEL)


async def _unless(stop: asyncio.Event, work):
    """``work``'s result, or CancelledError once ``stop`` is set first."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.cancelled():
        raise asyncio.CancelledError
    return task.result()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass
