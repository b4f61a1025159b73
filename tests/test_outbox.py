"""The outbox: replies leave in order, at the channel's pace; failures are
sorted into retry, blocked and failed, and nothing is dropped silently."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.engine import outbound_values
from flows.messages import Choice, Outgoing
from notifications.outbox import MAX_ATTEMPTS, Outbox
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


async def test_retries_back_off_and_then_give_up_with_the_reason(database, clock):
    sender = RecordingSender([SendResult.retry("502 bad gateway")] * MAX_ATTEMPTS)
    outbox = Outbox(database, {"test": sender}, clock=clock)
    queue(database, "hello")
    for _ in range(MAX_ATTEMPTS):
        await outbox.deliver_due()
        clock.advance(700)
    with session_scope(database) as session:
        message = session.exec(select(Message)).one()
        assert (message.status, message.attempts, message.error) == ("failed", MAX_ATTEMPTS, "502 bad gateway")


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


async def test_a_sender_that_raises_is_retried_not_lost(database, clock):
    sender = RecordingSender([RuntimeError("connection reset")])
    outbox = Outbox(database, {"test": sender}, clock=clock)
    queue(database, "hello")
    await outbox.deliver_due()
    assert statuses(database) == [("hello", "retry", 1)]


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
