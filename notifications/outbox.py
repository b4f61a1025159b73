"""Delivering the outbox.

Replies are rows in the store before anything is sent (the engine commits
them with the message that caused them). The outbox claims due rows with a
lease, hands each to its channel's sender at the pace the channel allows,
and records the outcome: ``sent``; ``retry`` with capped back-off (or the
channel's own ``retry_after``) for a day before giving up (see
:mod:`notifications.retrying`, which also logs each message's trouble
once); ``failed`` with the reason; ``held``
when the channel may not deliver it now (WhatsApp's closed 24-hour window
with no template for it): the row keeps the reason for staff to see, and
when the channel says the citizen wrote again (:meth:`Outbox.citizen_wrote`)
the next round puts it back in the queue — in the same transaction that
claims, so it goes out before the newer replies. Messages to one address go
out in the order they were queued, replies to citizens before announcements
(``priority``): a broadcast to a district never holds up an answer.

Pace: each channel's overall rate (:class:`~notifications.ratelimit.RateLimiter`,
paused for the whole channel when it answers 429 with ``retry_after``) and
its rate per chat (:class:`~notifications.ratelimit.ChatPacer`, from the
sender's ``chat_pace``): a message to a chat that must wait longer
than a moment goes back to the queue until then, so it holds nobody else.

Announcements (``template`` = a kind in :data:`BROADCAST_KINDS`) never reach
a citizen who opted out of them, even when queued before the opt-out (they
are ``skipped``); answers about the citizen's own requests always do.

What a crash can do: a message is claimed (``sending``, with a lease),
sent, then recorded — the outcomes of the sends of the last
:data:`RECORD_EVERY` seconds together, in one transaction. Killed between
the send and the record, the message is sent again when its lease runs
out: at most once more, and only for the messages in flight at that moment
or sent in the last few milliseconds (neither Telegram nor Twilio can be
asked afterwards whether a message arrived, so the choice is between
"maybe twice" and "maybe never": we choose twice). A message the outbox
recorded as sent is never sent again. Killed before the send, a message
simply goes when its lease runs out. Nothing claimed is lost.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.engine import Engine as Database
from sqlmodel import Session, select

from flows.messages import Choice, Outgoing
from flows.masking import error_summary, log_failure
from notifications import backlog
from notifications.ratelimit import ChatPacer, RateLimiter
from notifications.retrying import RetryPolicy
from notifications.rounds import BATCH, InFlight, by_address, round_size
from notifications.senders import SendResult, Sender
from storage import delivery, queries
from storage.db import session_scope
from storage.models import Citizen, Identity, Message, utcnow

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
BROADCAST_KINDS = frozenset({"broadcast"})
OPTED_OUT = "the citizen opted out of announcements"
SKIPPED = "skipped"
RECORD_EVERY = 0.01  # seconds: outcomes of the sends within this are recorded in one transaction
WAIT_IN_ROUND = 1.5  # seconds a message may wait for its chat within a delivery round; longer goes back to the queue


def to_outgoing(row: Message) -> Outgoing:
    payload = row.payload or {}
    return Outgoing(
        address=row.address,
        text=row.text,
        choices=tuple(Choice(key, label) for key, label in payload.get("choices", [])),
        template=payload.get("template"),
        template_variables=payload.get("template_variables"),
        menu_id=payload.get("menu_id"),
        document=payload.get("document"),
    )


class Outbox:
    def __init__(self, database: Database, senders: dict[str, Sender], *, clock=utcnow,
                 policy: RetryPolicy | None = None, alerts: backlog.Alerts | None = None, timer=None):
        self.database = database
        self.senders = senders
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.alerts = alerts or backlog.Alerts()
        # (monotonic clock, sleep) for the pace; a test gives a fake pair
        self.timer = timer or (time.monotonic, asyncio.sleep)
        self.addresses: list[str] | None = None  # only messages to these (a console terminal's own person); None: all
        self.limiters: dict[str, RateLimiter] = {}
        self.pacers: dict[str, ChatPacer] = {}
        for sender in senders.values():
            self._pace(sender)
        self._wakes: dict[str, asyncio.Event] = {}  # one per channel loop
        self._supervising = asyncio.Event()
        self.alive_at: datetime | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wrote: set[str] = set()  # addresses whose held messages may go again
        self._wrote_lock = threading.Lock()
        self._stopping = False
        self._outcomes: list[tuple[int, int, SendResult]] = []  # sent, not yet recorded (see _note)
        self._recording: asyncio.Future | None = None

    def add_sender(self, sender: Sender) -> None:
        self.senders[sender.channel] = sender
        self._pace(sender)
        if self._loop is not None:  # running: its loop starts now
            self._loop.call_soon_threadsafe(self._supervising.set)

    def _pace(self, sender: Sender) -> None:
        clock, sleep = self.timer
        self.limiters[sender.channel] = RateLimiter(sender.per_second, clock=clock, sleep=sleep)
        self.pacers[sender.channel] = ChatPacer(getattr(sender, "chat_pace", _no_pace), clock=clock)

    def citizen_wrote(self, address: str) -> None:
        """The citizen at ``address`` wrote: what was held for them may go
        (callable from any thread; a set, so the hot path costs no query)."""
        with self._wrote_lock:
            self._wrote.add(address)
        self.notify()

    def health(self) -> tuple[bool, dict]:
        """Whether replies leave as they should (see :mod:`notifications.backlog`); reads the store."""
        return backlog.check(self.database, sorted(self.senders), self.alerts, self.clock())

    def notify(self) -> None:
        """Ask for a delivery round now (callable from any thread)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        for event in self._wakes.values():
            event.set()

    async def deliver_due(self) -> int:
        """One round: claim what is due and send it. Returns how many were tried."""
        if not self.senders:
            return 0
        # The store is written from a worker thread: the event loop keeps
        # serving webhooks while a round is claimed and recorded.
        claimed = await asyncio.to_thread(self._claim)
        try:
            await asyncio.gather(*(self._send_in_order(items) for items in by_address(claimed).values()))
        finally:
            await self._flush_outcomes()
        return len(claimed)

    def _claim(self, channels: list[str] | None = None, size: int = 0) -> list[tuple[int, int, Outgoing]]:
        now = self.clock()
        with self._wrote_lock:
            wrote, self._wrote = self._wrote, set()
        try:
            with session_scope(self.database) as session:
                if wrote:
                    delivery.release_held(session.connection(), sorted(wrote))
                rows = _drop_opted_out(session, queries.claim_outbound(session, now, size or BATCH, LEASE,
                                                                          channels=channels or list(self.senders), addresses=self.addresses))
                return [(row.id, row.attempts, to_outgoing(row)) for row in rows]
        except Exception:
            with self._wrote_lock:  # try again next round
                self._wrote |= wrote
            raise

    async def _send_in_order(self, items: list) -> None:
        for index, (message_id, attempts, outgoing) in enumerate(items):
            sender = self.senders[outgoing.channel]
            wait = self.pacers[outgoing.channel].delay(outgoing.address)
            if wait > WAIT_IN_ROUND:  # this chat had its share: the rest waits in the queue, holding nobody
                until = self.clock() + timedelta(seconds=wait)
                await asyncio.to_thread(self._release, [m for m, _, _ in items[index:]], until)
                return
            if wait:
                await self.timer[1](wait)
            try:
                # What a send must look up first (WhatsApp: the 24-hour window) is
                # looked up before its turn, so the turn is spent on the send alone.
                send = await sender.prepare(outgoing) if hasattr(sender, "prepare") else partial(sender.send, outgoing)
                answered = await self.limiters[outgoing.channel].wait()
                try:
                    if self._stopping:  # claimed, not sent: back in the queue for the next start
                        await asyncio.to_thread(self._release, [m for m, _, _ in items[index:]])
                        return
                    result = await send()
                finally:
                    answered()
            except Exception as error:  # a sender should sort its errors; this is the safety net
                log.debug("sender %s raised on message %s", outgoing.channel, message_id, exc_info=True)
                result = SendResult.retry(f"{type(error).__name__}: {error}", code=error_summary(error))
            if result.status == "retry" and result.retry_after and "429" in (result.code or ""):
                self.limiters[outgoing.channel].pause(result.retry_after)  # the whole bot waits, as the channel asked
            if result.status == "sent":
                self.pacers[outgoing.channel].sent(outgoing.address)
            if result.status != "sent":
                # Later messages to this address would arrive out of order: put them back.
                await asyncio.to_thread(self._release, [m for m, _, _ in items if m > message_id])
                await self._note(message_id, attempts, result)
                return
            await self._note(message_id, attempts, result)

    async def _note(self, message_id: int, attempts: int, result: SendResult) -> None:
        """Keep an outcome for the next group commit, within :data:`RECORD_EVERY`."""
        self._outcomes.append((message_id, attempts, result))
        if self._recording is None or self._recording.done():
            self._recording = asyncio.ensure_future(self._flush_outcomes(RECORD_EVERY))

    async def _flush_outcomes(self, after: float = 0.0) -> None:
        """Record the outcomes kept so far, in one transaction (one fsync for
        all the sends of a few milliseconds, not one each)."""
        if after:
            await asyncio.sleep(after)
        elif self._recording is not None and not self._recording.done():
            await self._recording
        while self._outcomes:
            batch, self._outcomes = self._outcomes, []
            try:
                await asyncio.to_thread(self._record_all, batch)
            except Exception:
                self._outcomes = batch + self._outcomes  # kept for the next flush; the round says it failed
                if after:  # a flush of its own: nobody awaits it to hear of the failure
                    log_failure(log, "recording what was sent failed; trying again with the next round")
                    return
                raise

    def _record(self, message_id: int, attempts: int, result: SendResult) -> None:
        self._record_all([(message_id, attempts, result)])

    def _record_all(self, outcomes: list[tuple[int, int, SendResult]]) -> None:
        now = self.clock()
        with session_scope(self.database) as session:
            rows = {row.id: row for row in session.exec(select(Message).where(Message.id.in_([o[0] for o in outcomes])))}
            for message_id, attempts, result in outcomes:
                row = rows[message_id]
                self.policy.record(row, attempts, result, now)
                session.add(row)
                if result.status == "blocked":
                    session.flush()
                    _stop_contact(session, row.address, now)

    def settle(self, message_id: int, result: SendResult) -> None:
        """Record an outcome learned after the send (a channel's delivery
        report saying it failed after all): sorted like a send's outcome."""
        with session_scope(self.database) as session:
            attempts = session.get(Message, message_id).attempts
        self._record(message_id, attempts, result)
        if result.status == "retry":
            self.notify()

    def _release(self, message_ids: list[int], until: datetime | None = None) -> None:
        """Claimed, not tried: back to the queue (at ``until``), the try not counted."""
        if not message_ids:
            return
        with session_scope(self.database) as session:
            for message_id in message_ids:
                row = session.get(Message, message_id)
                row.status, row.next_attempt_at, row.attempts = "queued", until, max(0, row.attempts - 1)
                session.add(row)

    async def run(self, idle_seconds: float = 1.0) -> None:
        """Deliver until :meth:`stop` (or cancelled), waking at once when told of new replies.

        Each channel has a loop of its own (:meth:`_run_channel`), so a slow
        channel never holds a fast one, and claims its next messages while
        the last ones are still going: the channel never waits on the store."""
        self._loop = asyncio.get_running_loop()
        loops: dict[str, asyncio.Task] = {}
        try:
            while not self._stopping:
                self.alive_at = self.clock()
                for channel in list(self.senders):
                    task = loops.get(channel)
                    if task is not None and task.done() and not task.cancelled() and task.exception() is not None:
                        log_failure(log, "the %s delivery loop stopped; starting it again", channel, error=task.exception())
                        task = None
                    if task is None:
                        loops[channel] = asyncio.create_task(self._run_channel(channel, idle_seconds), name=f"outbox-{channel}")
                self._supervising.clear()
                try:
                    await asyncio.wait_for(self._supervising.wait(), idle_seconds)
                except TimeoutError:
                    pass
        finally:
            if not self._stopping:  # cancelled: the loops go too
                for task in loops.values():
                    task.cancel()
            await asyncio.gather(*loops.values(), return_exceptions=True)

    async def _run_channel(self, channel: str, idle_seconds: float) -> None:
        """Claim a channel's due messages in rounds (:mod:`notifications.rounds`),
        the next round as soon as the last is half sent. Messages
        to one address stay in order across rounds (each waits for the one
        before it); a reply queued meanwhile is claimed first in the next
        round, so it waits for at most about a round of announcements."""
        wake = self._wakes.setdefault(channel, asyncio.Event())
        size = round_size(self.senders[channel].per_second)
        in_flight = InFlight()
        chains: dict[str, asyncio.Task] = {}
        try:
            while not self._stopping:
                wake.clear()  # before the claim: a word that comes while it runs is for the next one
                try:
                    claimed = await asyncio.to_thread(self._claim, [channel], size)
                except Exception:
                    log_failure(log, "claiming %s messages failed; trying again shortly", channel)
                    claimed = []
                if claimed:
                    in_flight.add(len(claimed))
                    for address, items in by_address(claimed).items():
                        chains[address] = asyncio.create_task(self._send_after(chains.get(address), items, in_flight))
                    await in_flight.at_most(size // 2)
                    chains = {a: t for a, t in chains.items() if not t.done()}
                    continue
                if self._stopping:
                    break
                try:
                    await asyncio.wait_for(wake.wait(), idle_seconds)
                except TimeoutError:
                    pass
        finally:
            await asyncio.gather(*chains.values(), return_exceptions=True)
            await self._flush_outcomes()

    async def _send_after(self, before: asyncio.Task | None, items: list, in_flight: InFlight) -> None:
        """Send ``items`` (one address's, in order) once the messages claimed
        before them for that address are done."""
        try:
            if before is not None:
                await asyncio.gather(before, return_exceptions=True)
            await self._send_in_order(items)
        except Exception:
            log_failure(log, "a delivery failed before its outcome was recorded; it goes again after its lease")
        finally:
            in_flight.done(len(items))

    def stop(self) -> None:
        """End :meth:`run` after the sends in progress: they finish and are
        recorded; what the round claimed and has not sent goes back to
        ``queued`` at once, not after its lease."""
        self._stopping = True
        self._wake_all()
        self._supervising.set()


def _drop_opted_out(session: Session, rows: list[Message]) -> list[Message]:
    """Claimed rows minus announcements to citizens who said STOP; those are skipped, with the reason."""
    announced = {row.citizen_id for row in rows if (row.payload or {}).get("template") in BROADCAST_KINDS and row.citizen_id is not None}
    stopped = set(session.exec(select(Citizen.id).where(Citizen.id.in_(announced), Citizen.broadcasts_opted_out_at.is_not(None)))) \
        if announced else set()
    kept = []
    for row in rows:
        if row.citizen_id in stopped and (row.payload or {}).get("template") in BROADCAST_KINDS:
            row.status, row.error, row.next_attempt_at = SKIPPED, OPTED_OUT, None
            session.add(row)
            continue
        kept.append(row)
    return kept


def _no_pace(address: str) -> tuple[float, int]:
    return 0.0, 1


def _stop_contact(session: Session, address: str, now: datetime) -> None:
    """The citizen blocked us on this channel: stop sending there, and say
    so on every message still waiting for that address."""
    identity = session.get(Identity, address)
    if identity is not None:
        identity.blocked_at = now
        session.add(identity)
    waiting = select(Message).where(Message.address == address, Message.direction == "out", Message.status.in_(("queued", "retry")))
    for row in session.exec(waiting):
        row.status, row.error, row.next_attempt_at = "failed", "contact blocked the bot", None
        session.add(row)
