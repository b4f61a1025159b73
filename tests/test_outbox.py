"""The outbox: replies leave in order, at the channel's pace; failures are
sorted into retry, blocked and failed; a channel down for hours costs no
reply (retries go on for a day, on a fake clock here), and every message's
trouble is logged once, with the channel's code and without personal data."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.message_rows import outbound_values
from bot.settings import Settings
from flows.messages import Choice, Outgoing
from notifications.outbox import Outbox
from notifications.retrying import RetryPolicy
from notifications.senders import SendResult
from storage.db import session_scope
from storage.models import Identity, Message, utcnow


class RecordingSender:
    """Stands in for a channel whose far end cannot run here; answers as told."""

    channel = "test"
    per_second = 0.0

    def __init__(self, answers=None):
        self.sent: list[Outgoing] = []
        self.answers = list(answers or [])

    async def send(self, message: Outgoing) -> SendResult:
        self.sent.append(message)
        answer = self.answers.pop(0) if self.answers else SendResult.sent(f"id-{len(self.sent)}")
        if isinstance(answer, Exception):
            raise answer
        return answer


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds: float):
        self.now += timedelta(seconds=seconds)


def queue(database, *texts: str, address: str = "test:1", choices=()) -> list[int]:
    with session_scope(database) as session:
        rows = [Message(**outbound_values(Outgoing(address, text, tuple(choices), menu_id="3"), None, None)) for text in texts]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def statuses(database) -> list[tuple[str, str, int]]:
    with session_scope(database) as session:
        return [(m.text, m.status, m.attempts) for m in session.exec(select(Message).order_by(Message.id))]


@pytest.fixture
def clock():
    return Clock()


async def test_replies_are_sent_in_order_with_their_choices(database, clock):
    sender = RecordingSender()
    outbox = Outbox(database, {"test": sender}, clock=clock)
    queue(database, "first", "second", choices=[Choice("yes", "Yes")])
    assert await outbox.deliver_due() == 2
    assert [m.text for m in sender.sent] == ["first", "second"]
    assert sender.sent[0].choices == (Choice("yes", "Yes"),) and sender.sent[0].menu_id == "3"
    assert statuses(database) == [("first", "sent", 1), ("second", "sent", 1)]
    assert await outbox.deliver_due() == 0


async def test_a_throttled_message_waits_and_holds_back_the_next_to_that_address(database, clock):
    sender = RecordingSender([SendResult.retry("429 too many requests", retry_after=30)])
    outbox = Outbox(database, {"test": sender}, clock=clock)
    queue(database, "first", "second")
    await outbox.deliver_due()
    assert statuses(database) == [("first", "retry", 1), ("second", "queued", 0)]
    assert await outbox.deliver_due() == 1  # "second" is due, "first" is not: order is kept...
    assert [m.text for m in sender.sent] == ["first", "second"]
    clock.advance(31)
    await outbox.deliver_due()
    assert statuses(database)[0] == ("first", "sent", 2)


class DownFor:
    """A channel that answers "try later" until ``clock`` passes ``until``."""

    channel = "test"
    per_second = 0.0

    def __init__(self, clock, seconds: float, result: SendResult = SendResult.retry("502 bad gateway", code="HTTP 502")):
        self.clock, self.until, self.result = clock, clock() + timedelta(seconds=seconds), result
        self.tries: list = []

    async def send(self, message: Outgoing) -> SendResult:
        self.tries.append(self.clock())
        return self.result if self.clock() < self.until else SendResult.sent(f"id-{len(self.tries)}")


async def settle(outbox, clock, database, message_id: int) -> Message:
    """Run the outbox, moving the clock to each next try, until the message is sent or failed."""
    for _ in range(5000):
        await outbox.deliver_due()
        with session_scope(database) as session:
            row = session.get(Message, message_id)
        if row.status in ("sent", "failed"):
            return row
        clock.now = max(clock.now, row.next_attempt_at)
    raise AssertionError("the message never settled")


def outbox_records(caplog, level=logging.INFO) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name.startswith("notifications") and r.levelno >= level]


@pytest.mark.parametrize("hours", [5 / 60, 2])
async def test_a_channel_down_for_hours_costs_no_reply_and_is_logged_once(database, clock, caplog, hours):
    caplog.set_level(logging.DEBUG)
    sender = DownFor(clock, hours * 3600)
    outbox = Outbox(database, {"test": sender}, clock=clock)
    [message_id] = queue(database, "Su turno es el martes a las 9.", address="test:5492215550134")
    message = await settle(outbox, clock, database, message_id)
    assert message.status == "sent" and message.error is None
    gaps = [(b - a).total_seconds() for a, b in zip(sender.tries, sender.tries[1:])]
    assert max(gaps) <= 300  # capped back-off: the reply leaves within minutes of the channel's return
    assert (message.sent_at - sender.until).total_seconds() <= 300
    logged = outbox_records(caplog)
    assert [level for level, _ in logged] == ["WARNING", "INFO"]
    assert f"message {message_id} to test:54922****134 not delivered (HTTP 502)" in logged[0][1]
    assert "delivered after" in logged[1][1]
    assert not any("5492215550134" in text or "martes" in text for _, text in logged)


async def test_retries_go_on_for_a_day_then_fail_with_the_reason_logged_once(database, clock, caplog):
    caplog.set_level(logging.DEBUG)
    sender = DownFor(clock, 48 * 3600)
    outbox = Outbox(database, {"test": sender}, clock=clock)
    [message_id] = queue(database, "hello")
    message = await settle(outbox, clock, database, message_id)
    tried_for = sender.tries[-1] - sender.tries[0]
    assert message.status == "failed" and message.error == "502 bad gateway"
    assert timedelta(hours=24) <= tried_for < timedelta(hours=24, minutes=6)
    assert message.failed_at == sender.tries[-1] and message.attempts == len(sender.tries) > 100
    assert [level for level, _ in outbox_records(caplog)] == ["WARNING", "ERROR"]
    assert "given up after" in outbox_records(caplog)[1][1] and f"/outbox retry {message_id}" in outbox_records(caplog)[1][1]


async def test_how_long_to_retry_is_a_setting(database, clock, tmp_path):
    from bot.wiring import build

    assert build(Settings(database_url=f"sqlite:///{tmp_path / 's.sqlite3'}", outbox_retry_hours=2.5)).outbox.policy.give_up_after == timedelta(hours=2.5)
    sender = DownFor(clock, 2 * 3600)
    outbox = Outbox(database, {"test": sender}, clock=clock, policy=RetryPolicy(give_up_after=timedelta(hours=1)))
    [message_id] = queue(database, "hello")
    message = await settle(outbox, clock, database, message_id)
    assert message.status == "failed" and timedelta(hours=1) <= sender.tries[-1] - sender.tries[0] < timedelta(hours=1, minutes=6)


async def test_a_failure_no_retry_cures_fails_at_once_logged_with_its_code(database, clock, caplog):
    caplog.set_level(logging.DEBUG)
    sender = RecordingSender([SendResult.failed("Twilio 21211: Invalid 'To' Phone Number: +5492215550134", "Twilio 21211 (HTTP 400)")])
    outbox = Outbox(database, {"test": sender}, clock=clock)
    [message_id] = queue(database, "hello", address="test:5492215550134")
    await outbox.deliver_due()
    assert statuses(database) == [("hello", "failed", 1)]
    [(level, text)] = outbox_records(caplog)
    assert level == "ERROR" and "Twilio 21211 (HTTP 400)" in text and f"message {message_id}" in text
    assert "5492215550134" not in text


async def test_a_citizen_who_blocked_the_bot_is_not_written_to_again(database, clock):
    with session_scope(database) as session:
        from storage.queries import identity_for

        identity_for(session, "test", "test:1")
    sender = RecordingSender([SendResult.blocked("Forbidden: bot was blocked by the user")])
    outbox = Outbox(database, {"test": sender}, clock=clock)
    queue(database, "first", "second")
    await outbox.deliver_due()
    assert [s for _, s, _ in statuses(database)] == ["failed", "failed"]
    with session_scope(database) as session:
        assert session.exec(select(Identity)).one().blocked_at is not None
        assert session.exec(select(Message).where(Message.text == "second")).one().error == "contact blocked the bot"


async def test_a_sender_that_raises_is_retried_not_lost(database, clock, caplog):
    sender = RecordingSender([RuntimeError("connection reset")])
    outbox = Outbox(database, {"test": sender}, clock=clock)
    queue(database, "hello")
    await outbox.deliver_due()
    assert statuses(database) == [("hello", "retry", 1)]
    with session_scope(database) as session:  # staff see what went wrong; the log does not carry it
        assert session.exec(select(Message.error)).one() == "RuntimeError: connection reset"
    [(level, text)] = outbox_records(caplog)
    assert level == "WARNING" and "RuntimeError at test_outbox.py" in text and "connection reset" not in text


async def test_a_message_left_sending_by_a_crash_is_sent_when_its_lease_ends(database, clock):
    queue(database, "hello")
    crashed = Outbox(database, {"test": RecordingSender()}, clock=clock)
    with session_scope(database) as session:
        from storage.queries import claim_outbound

        claim_outbound(session, clock(), 10, timedelta(seconds=60))  # claimed, then the process died
    sender = RecordingSender()
    restarted = Outbox(database, {"test": sender}, clock=clock)
    assert await restarted.deliver_due() == 0
    clock.advance(61)
    assert await restarted.deliver_due() == 1
    assert statuses(database) == [("hello", "sent", 2)]
    del crashed


async def test_only_channels_with_a_sender_are_claimed(database, clock):
    queue(database, "for telegram", address="telegram:5")
    outbox = Outbox(database, {"test": RecordingSender()}, clock=clock)
    assert await outbox.deliver_due() == 0
    assert statuses(database) == [("for telegram", "queued", 0)]


async def test_a_block_stops_that_contact_only(database, clock):
    """Her waiting messages fail with the reason; another citizen's, and her own words to us, are untouched."""
    with session_scope(database) as session:
        from storage.queries import identity_for

        identity_for(session, "test", "test:1")
        identity_for(session, "test", "test:2")
    sender = RecordingSender([SendResult.blocked("Forbidden: bot was blocked by the user")])
    outbox = Outbox(database, {"test": sender}, clock=clock)
    queue(database, "first", "second")
    [other] = queue(database, "for someone else", address="test:2")
    [later] = queue(database, "a retry of hers")
    [other_later] = queue(database, "a retry of someone else's", address="test:2")
    with session_scope(database) as session:
        for waiting in (later, other_later):  # not due: still waiting when she blocks us
            session.get(Message, waiting).status = "retry"
            session.get(Message, waiting).next_attempt_at = clock.now + timedelta(hours=1)
        session.add(Message(direction="in", channel="test", address="test:1", text="her words", status="processed"))
    await outbox.deliver_due()
    with session_scope(database) as session:
        by_text = {m.text: (m.status, m.error) for m in session.exec(select(Message))}
    assert by_text["a retry of hers"] == ("failed", "contact blocked the bot")
    assert by_text["her words"] == ("processed", None)
    assert by_text["for someone else"][0] != "failed"
    assert by_text["a retry of someone else's"] == ("retry", None)
    with session_scope(database) as session:
        blocked = {i.address: i.blocked_at is not None for i in session.exec(select(Identity))}
    assert blocked == {"test:1": True, "test:2": False}


def test_a_late_report_of_a_temporary_failure_wakes_the_sender(database, clock):
    woken = []
    outbox = Outbox(database, {}, clock=clock)
    outbox.notify = lambda: woken.append(True)
    [message_id] = queue(database, "hello")
    outbox.settle(message_id, SendResult.failed("Twilio 30008: Unknown error", "Twilio 30008"))
    assert woken == []
    outbox.settle(message_id, SendResult.retry("Twilio 30001: Queue overflow"))
    assert woken == [True]


# The running outbox: one delivery loop per channel, kept alive, woken from any thread.

async def sent_within(database, message_id: int, seconds: float) -> bool:
    for _ in range(int(seconds / 0.02)):
        with session_scope(database) as session:
            if session.get(Message, message_id).status == "sent":
                return True
        await asyncio.sleep(0.02)
    return False


@contextlib.asynccontextmanager
async def delivering(outbox: Outbox, idle_seconds: float):
    """The outbox running in the background, stopped (its loops ended) on leaving."""
    running = asyncio.create_task(outbox.run(idle_seconds=idle_seconds))
    try:
        yield running
    finally:
        outbox.stop()
        await asyncio.wait_for(running, 5)


def delivery_loops() -> list:
    return [task for task in asyncio.all_tasks() if task.get_name() == "outbox-test" and not task.done()]


async def test_a_delivery_loop_that_crashed_is_started_again_and_there_is_only_ever_one(database, caplog, monkeypatch):
    import notifications.outbox as outbox_module

    real, crashes = outbox_module.InFlight, []

    def crashing_once():
        if not crashes:
            crashes.append(1)
            raise RuntimeError("the loop broke")
        return real()

    monkeypatch.setattr(outbox_module, "InFlight", crashing_once)
    caplog.set_level(logging.INFO)
    outbox = Outbox(database, {"test": RecordingSender()})
    running = asyncio.create_task(outbox.run(idle_seconds=0.05))
    [message_id] = queue(database, "after the crash")
    assert await sent_within(database, message_id, 5)
    [logged] = [text for _, text in outbox_records(caplog, logging.ERROR) if "delivery loop stopped" in text]
    assert logged.startswith("the test delivery loop stopped; starting it again: RuntimeError")
    for _ in range(5):  # supervision goes round every idle time: still one loop
        await asyncio.sleep(0.06)
        assert len(delivery_loops()) == 1
    assert outbox.alive_at is not None
    outbox.stop()
    await asyncio.wait_for(running, 5)
    assert delivery_loops() == []


async def test_a_message_queued_without_a_word_is_found_within_the_idle_time(database):
    outbox = Outbox(database, {"test": RecordingSender()})
    async with delivering(outbox, idle_seconds=0.05):
        await asyncio.sleep(0.1)
        [message_id] = queue(database, "nobody said")
        assert await sent_within(database, message_id, 3)


async def test_a_word_from_another_thread_wakes_an_idle_outbox_at_once(database):
    outbox = Outbox(database, {"test": RecordingSender()})
    running = asyncio.create_task(outbox.run(idle_seconds=60))
    await asyncio.sleep(0.2)  # its first round found nothing: it idles for a minute
    [message_id] = queue(database, "wake up")
    await asyncio.to_thread(outbox.notify)
    assert await sent_within(database, message_id, 3)
    outbox.stop()
    outbox.notify()
    await asyncio.wait_for(running, 5)


async def test_cancelling_the_outbox_ends_its_delivery_loops_too(database):
    outbox = Outbox(database, {"test": RecordingSender()})
    running = asyncio.create_task(outbox.run(idle_seconds=60))
    await asyncio.sleep(0.2)
    assert len(delivery_loops()) == 1
    running.cancel()
    done, _ = await asyncio.wait({running}, timeout=5)
    assert running in done and running.cancelled()
    assert delivery_loops() == []


async def test_an_announcement_waiting_for_a_citizen_who_since_said_stop_is_skipped_not_sent(database, clock):
    """STOP may come after an announcement was queued: it is checked again at sending,
    for announcements only (a reply to her own request still goes)."""
    from storage.models import Citizen

    with session_scope(database) as session:
        stopped = Citizen(display_name="Ana", language="uz", broadcasts_opted_out_at=utcnow())
        listening = Citizen(display_name="Olim", language="ru")
        session.add_all([stopped, listening])
        session.flush()
        for citizen, address in ((stopped, "test:ana"), (listening, "test:olim")):
            for text, template in (("Bazaar tomorrow", "broadcast"), ("Your request is answered", None)):
                row = Message(**outbound_values(Outgoing(address, text), None, None))
                row.citizen_id, row.payload = citizen.id, ({"template": template} if template else row.payload)
                session.add(row)
    sender = RecordingSender()
    outbox = Outbox(database, {"test": sender}, clock=clock)
    while await outbox.deliver_due():
        pass
    assert sorted((m.address, m.text) for m in sender.sent) == [
        ("test:ana", "Your request is answered"), ("test:olim", "Bazaar tomorrow"), ("test:olim", "Your request is answered")]
    with session_scope(database) as session:
        [skipped] = session.exec(select(Message).where(Message.status == "skipped"))
        assert (skipped.address, skipped.text, skipped.error) == ("test:ana", "Bazaar tomorrow", "the citizen opted out of announcements")


async def test_a_reply_queued_while_the_outbox_looks_for_work_goes_at_once(database):
    """The word that a reply is waiting can come while the outbox is reading
    the queue and has found nothing yet: it counts for the next look, it does
    not wait for the idle time to end."""
    outbox = Outbox(database, {"test": RecordingSender()})
    look, written = outbox._claim, []

    def look_while_a_reply_is_written(*args):
        found = look(*args)
        if not written:  # the first look found nothing; a reply comes before it ends
            written.extend(queue(database, "written while the outbox looked"))
            outbox.notify()
        return found

    outbox._claim = look_while_a_reply_is_written
    async with delivering(outbox, idle_seconds=60):
        for _ in range(100):
            if written:
                break
            await asyncio.sleep(0.02)
        assert written and await sent_within(database, written[0], 3)


async def test_a_channel_added_while_the_outbox_runs_delivers_at_once(database):
    outbox = Outbox(database, {"test": RecordingSender()})
    async with delivering(outbox, idle_seconds=60):
        await asyncio.sleep(0.2)  # its first round found nothing: it idles for a minute
        whatsapp = RecordingSender()
        whatsapp.channel = "whatsapp"
        [message_id] = queue(database, "Hola Ana", address="whatsapp:+5491100000000")
        outbox.add_sender(whatsapp)
        assert await sent_within(database, message_id, 3)
        assert [m.text for m in whatsapp.sent] == ["Hola Ana"]


async def test_an_outbox_with_no_channel_tries_nothing_and_keeps_the_queue(database):
    queue(database, "nobody to carry it yet")
    assert await Outbox(database, {}).deliver_due() == 0
    assert statuses(database) == [("nobody to carry it yet", "queued", 0)]


async def test_stopping_while_a_delivery_loop_keeps_breaking_ends_quietly(database, caplog, monkeypatch):
    """A broken delivery loop is logged each time it is started again; stopping
    the outbox then is not one more error for whoever stops it."""
    import notifications.outbox as outbox_module

    def broken():
        raise RuntimeError("the loop broke")

    monkeypatch.setattr(outbox_module, "InFlight", broken)
    caplog.set_level(logging.ERROR)
    outbox = Outbox(database, {"test": RecordingSender()})
    running = asyncio.create_task(outbox.run(idle_seconds=0.02))
    for _ in range(250):
        if sum("delivery loop stopped" in text for _, text in outbox_records(caplog, logging.ERROR)) >= 2:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.01)
    outbox.stop()
    await asyncio.wait_for(running, 5)  # no RuntimeError: it was logged already
    assert sum("delivery loop stopped" in text for _, text in outbox_records(caplog, logging.ERROR)) >= 2


async def test_an_outbox_for_one_person_sends_only_their_messages(database, clock):
    """A console terminal delivers its own person's replies and leaves everyone else's in the queue."""
    sender = RecordingSender()
    outbox = Outbox(database, {"test": sender}, clock=clock)
    outbox.addresses = ["test:me"]
    queue(database, "for someone else", address="test:other")
    queue(database, "for me", address="test:me")
    assert await outbox.deliver_due() == 1
    assert [m.text for m in sender.sent] == ["for me"]
    assert statuses(database) == [("for someone else", "queued", 0), ("for me", "sent", 1)]


async def test_a_citizen_who_wrote_while_the_store_failed_still_gets_what_was_held(database, clock, monkeypatch):
    """The word that a citizen wrote (her held messages may go) is kept when
    the round that was to act on it fails, and acted on by the next."""
    import notifications.outbox as outbox_module

    held = queue(database, "Bazaar on Sunday", address="test:ana") + queue(database, "Bazaar on Sunday", address="test:bob")
    with session_scope(database) as session:
        for message_id in held:
            session.get(Message, message_id).status = "held"
    sender = RecordingSender()
    outbox = Outbox(database, {"test": sender}, clock=clock)
    outbox.citizen_wrote("test:ana")
    real, failures = outbox_module.queries.claim_outbound, []

    def busy_once(*args, **kwargs):
        if not failures:
            failures.append(1)
            outbox.citizen_wrote("test:bob")  # and Bob wrote meanwhile
            raise RuntimeError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(outbox_module.queries, "claim_outbound", busy_once)
    with pytest.raises(RuntimeError):
        await outbox.deliver_due()
    assert await outbox.deliver_due() == 2
    assert sorted(m.address for m in sender.sent) == ["test:ana", "test:bob"]


async def test_an_announcement_alone_to_a_citizen_who_said_stop_is_skipped(database, clock):
    """Her only message waiting is the announcement (no reply beside it): still skipped."""
    from storage.models import Citizen

    with session_scope(database) as session:
        stopped = Citizen(display_name="Ana", language="uz", broadcasts_opted_out_at=utcnow())
        session.add(stopped)
        session.flush()
        row = Message(**outbound_values(Outgoing("test:ana", "Bazaar tomorrow"), None, None))
        row.citizen_id, row.payload = stopped.id, {"template": "broadcast"}
        session.add(row)
    sender = RecordingSender()
    assert await Outbox(database, {"test": sender}, clock=clock).deliver_due() == 0
    assert sender.sent == [] and statuses(database) == [("Bazaar tomorrow", "skipped", 1)]


class GatedSender:
    """A channel whose first send waits until the test opens the gate."""

    channel = "test"
    per_second = 0.0

    def __init__(self):
        self.started, self.gate, self.sent = asyncio.Event(), asyncio.Event(), []

    async def send(self, message) -> SendResult:
        self.sent.append(message.text)
        self.started.set()
        await self.gate.wait()
        return SendResult.sent(f"id-{len(self.sent)}")


async def test_stopping_the_outbox_finishes_the_send_in_progress_and_puts_back_what_it_claimed(database):
    """SIGTERM or Ctrl-C while a reply is going (see tests/test_shutdown.py for the whole bot)."""
    queue(database, "first", "second", "third")
    sender = GatedSender()
    outbox = Outbox(database, {"test": sender})
    running = asyncio.create_task(outbox.run(idle_seconds=0.05))
    await asyncio.wait_for(sender.started.wait(), 5)
    outbox.stop()
    await asyncio.sleep(0.2)
    assert not running.done()  # it waits for the send in progress
    sender.gate.set()
    await asyncio.wait_for(running, 5)
    assert sender.sent == ["first"]
    # Back in the queue at once, as if never claimed: no lease to wait out after the restart.
    assert statuses(database) == [("first", "sent", 1), ("second", "queued", 0), ("third", "queued", 0)]
