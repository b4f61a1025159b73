"""Sending announcements at the channels' pace: never faster than a
channel allows (30 a second overall on Telegram, one a second to a person,
twenty a minute to a group), a 429 pauses the whole bot as long as it
asks, replies to citizens overtake a broadcast, and two outboxes on one
PostgreSQL never send one message twice. Time here is a fake clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.message_rows import outbound_values
from bot.wiring import open_store
from flows.messages import Outgoing
from handlers.telegram import TelegramSender
from notifications.outbox import WAIT_IN_ROUND, Outbox
from notifications.ratelimit import ChatPacer, RateLimiter
from notifications.senders import SendResult
from storage.db import session_scope
from storage.models import Message
from tests.test_outbox import Clock, delivering


class FakeTime:
    """A monotonic clock that moves only when someone sleeps on it."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


class Channel:
    """A far end that notes when each message arrived, by the fake clock."""

    per_second = 0.0

    def __init__(self, time: FakeTime, channel: str = "telegram", answers=(), interval=None):
        self.channel, self.time, self.answers = channel, time, list(answers)
        self.arrived: list[tuple[float, str, str]] = []
        if interval is not None:
            self.chat_pace = interval

    async def send(self, message: Outgoing) -> SendResult:
        self.arrived.append((self.time(), message.address, message.text))
        return self.answers.pop(0) if self.answers else SendResult.sent(f"{message.address}:{len(self.arrived)}:{id(self)}")


def most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def queue(database, address: str, *texts: str, broadcast: bool = False) -> list[int]:
    with session_scope(database) as session:
        rows = []
        for text in texts:
            values = outbound_values(Outgoing(address, text, template="broadcast" if broadcast else None), None, None)
            rows.append(Message(**values, priority=1 if broadcast else 0))
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


async def test_telegrams_overall_limit_holds_in_every_second_and_is_nearly_reached():
    time = FakeTime()
    limiter = RateLimiter(TelegramSender.per_second, clock=time, sleep=time.sleep)
    sent = []
    for _ in range(600):
        answered = await limiter.wait()
        sent.append(time())
        answered()
    assert most_in_any_window(sent, 1.0) <= 30
    assert 600 / (sent[-1] - sent[0] + 1 / 30) >= 0.95 * 30  # and not much slower than allowed


async def test_wake_ups_a_little_late_cost_no_throughput_and_never_break_the_limit():
    class LateTime(FakeTime):
        async def sleep(self, seconds: float) -> None:  # a busy process wakes 2 ms late
            await super().sleep(seconds + 0.002)

    time = LateTime()
    limiter = RateLimiter(100, clock=time, sleep=time.sleep)
    sent = []
    for _ in range(1000):
        answered = await limiter.wait()
        sent.append(time())
        answered()
    assert most_in_any_window(sent, 1.0) <= 100
    assert 1000 / (sent[-1] - sent[0] + 0.01) >= 99  # made up by the sends after, not lost
    gaps = [b - a for a, b in zip(sent, sent[1:])]
    assert min(gaps) >= 0.004  # and never a burst


async def test_a_send_counts_against_the_limit_until_a_second_after_its_answer():
    """The channel counts a message when it arrives, which may be as late as
    its answer: a slow one must not arrive together with the next."""
    time = FakeTime()
    limiter = RateLimiter(1, clock=time, sleep=time.sleep)
    slow = await limiter.wait()  # sent, no answer yet
    following = asyncio.create_task(limiter.wait())
    for _ in range(50):
        await asyncio.sleep(0)
    assert not following.done()  # however long the answer takes
    slow()
    answered_at = time()
    (await following)()
    assert time() >= answered_at + 1.0


async def test_a_429_pauses_the_whole_channel_for_as_long_as_it_asks():
    time = FakeTime()
    limiter = RateLimiter(30, clock=time, sleep=time.sleep)
    (await limiter.wait())()
    limiter.pause(7.5)
    asked_at = time()
    (await limiter.wait())()
    assert time() - asked_at >= 7.5


def test_telegram_gives_a_person_three_at_once_then_one_a_second_and_a_group_one_every_three():
    assert TelegramSender.chat_pace("telegram:123456") == (1.0, 3)
    assert TelegramSender.chat_pace("telegram:-1001234567890") == (3.0, 1)  # twenty a minute
    time = FakeTime()
    pacer = ChatPacer(TelegramSender.chat_pace, clock=time)
    for _ in range(3):
        assert pacer.delay("telegram:5") == 0.0
        pacer.sent("telegram:5")
    assert pacer.delay("telegram:5") == 1.0 and pacer.delay("telegram:6") == 0.0
    time.now += 1.0
    assert pacer.delay("telegram:5") == 0.0
    pacer.sent("telegram:-7")
    assert pacer.delay("telegram:-7") == 3.0


async def test_a_reply_of_three_goes_at_once_and_a_longer_run_a_second_apart(database):
    time, clock = FakeTime(), Clock()
    far_end = Channel(time, interval=TelegramSender.chat_pace)
    outbox = Outbox(database, {"telegram": far_end}, clock=clock, timer=(time, time.sleep))
    queue(database, "telegram:5", "one", "two", "three", "four", "five")
    queue(database, "telegram:6", "other")
    await outbox.deliver_due()
    to_person = [at for at, address, _ in far_end.arrived if address == "telegram:5"]
    assert len(to_person) == 5 and to_person[2] == to_person[0]  # the first three together
    assert to_person[3] - to_person[2] >= 1.0 and to_person[4] - to_person[3] >= 1.0
    assert most_in_any_window(to_person[2:], 1.0) == 1
    assert [text for _, _, text in far_end.arrived].index("other") < 4  # another chat does not wait for this one


async def test_a_group_gets_twenty_a_minute_and_what_must_wait_goes_back_to_the_queue(database):
    time, clock = FakeTime(), Clock()
    far_end = Channel(time, interval=TelegramSender.chat_pace)
    outbox = Outbox(database, {"telegram": far_end}, clock=clock, timer=(time, time.sleep))
    group = queue(database, "telegram:-1009", "first post", "second post")
    await outbox.deliver_due()
    assert [text for _, _, text in far_end.arrived] == ["first post"]
    with session_scope(database) as session:
        waiting = session.get(Message, group[1])
        # back in the queue for three seconds, its try not counted
        assert (waiting.status, waiting.attempts) == ("queued", 0)
        assert timedelta(seconds=2.9) < waiting.next_attempt_at - clock.now <= timedelta(seconds=3)
    assert await outbox.deliver_due() == 0  # not before its time
    clock.advance(3)
    time.now += 3
    await outbox.deliver_due()
    assert [text for _, _, text in far_end.arrived] == ["first post", "second post"]


async def test_a_message_put_back_to_wait_for_its_chat_keeps_the_count_of_its_earlier_tries(database):
    time, clock = FakeTime(), Clock()
    far_end = Channel(time, interval=TelegramSender.chat_pace)
    outbox = Outbox(database, {"telegram": far_end}, clock=clock, timer=(time, time.sleep))
    _, second = queue(database, "telegram:-1009", "first post", "second post")
    with session_scope(database) as session:  # the second was tried twice before, and is due again
        session.get(Message, second).attempts = 2
    await outbox.deliver_due()
    with session_scope(database) as session:
        waiting = session.get(Message, second)
        assert (waiting.status, waiting.attempts) == ("queued", 2)  # this round's try not counted, the earlier ones kept


async def test_a_chat_whose_turn_comes_within_the_round_is_waited_for_not_put_back(database):
    time, clock = FakeTime(), Clock()
    far_end = Channel(time, interval=lambda address: (WAIT_IN_ROUND, 1))  # one message every WAIT_IN_ROUND seconds
    outbox = Outbox(database, {"telegram": far_end}, clock=clock, timer=(time, time.sleep))
    queue(database, "telegram:5", "one", "two")
    assert await outbox.deliver_due() == 2
    (first_at, _, _), (second_at, _, _) = far_end.arrived
    assert second_at - first_at == WAIT_IN_ROUND


async def test_a_message_claimed_a_round_later_waits_for_the_one_before_it_to_that_citizen(database):
    """Rounds overlap (the next is claimed when half of the last is out):
    Ana's second message, claimed while her first is still going, waits for it."""
    time, clock = FakeTime(), Clock()
    far_end = Channel(time, channel="test")
    far_end.per_second = 8.0  # a round of four messages; the next round when two are left
    first_may_arrive = asyncio.Event()

    async def send(message):
        if message.text == "first to Ana":
            await first_may_arrive.wait()
        return await Channel.send(far_end, message)

    far_end.send = send
    outbox = Outbox(database, {"test": far_end}, clock=clock, timer=(time, time.sleep))
    queue(database, "test:ana", "first to Ana")
    for n in range(3):
        queue(database, f"test:{n}", "Bazaar on Sunday")
    [second] = queue(database, "test:ana", "second to Ana")

    def claimed() -> bool:
        with session_scope(database) as session:
            return session.get(Message, second).status != "queued"

    async with delivering(outbox, idle_seconds=0.05):
        try:
            await _until(claimed)
            await asyncio.sleep(0.2)  # time enough for it to go, were it not waiting
        finally:
            first_may_arrive.set()
        await _until(lambda: len(far_end.arrived) == 5)
    assert [text for _, address, text in far_end.arrived if address == "test:ana"] == ["first to Ana", "second to Ana"]


async def test_a_429_from_telegram_holds_every_chat_not_just_the_one_that_got_it(database):
    time, clock = FakeTime(), Clock()
    throttled = SendResult.retry("Flood control exceeded", retry_after=20, code="RetryAfter (HTTP 429)")
    far_end = Channel(time, answers=[throttled])
    far_end.per_second = 30.0
    outbox = Outbox(database, {"telegram": far_end}, clock=clock, timer=(time, time.sleep))
    queue(database, "telegram:1", "a")
    queue(database, "telegram:2", "b")
    started = time()
    await outbox.deliver_due()
    (first_at, _, _), (second_at, _, _) = far_end.arrived
    assert first_at == started and second_at - first_at >= 20


async def test_a_reply_to_a_citizen_overtakes_a_broadcast_queued_before_it(database):
    time, clock = FakeTime(), Clock()
    far_end = Channel(time, channel="test")
    outbox = Outbox(database, {"test": far_end}, clock=clock, timer=(time, time.sleep))
    for n in range(250):
        queue(database, f"test:{n}", "Bazaar on Sunday", broadcast=True)
    queue(database, "test:ana", "Your request KX-1234 is in progress")
    await outbox.deliver_due()
    assert far_end.arrived[0][2] == "Your request KX-1234 is in progress"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_outboxes_on_one_postgresql_never_send_a_message_twice(database_url):
    stores = [open_store(database_url) for _ in range(2)]
    try:
        for n in range(400):
            queue(stores[0], f"test:{n}", f"message {n}", broadcast=n % 2 == 0)
        time = FakeTime()
        far_ends = [Channel(time, channel="test") for _ in stores]
        outboxes = [Outbox(store, {"test": end}, timer=(time, time.sleep)) for store, end in zip(stores, far_ends)]
        for _ in range(10):
            await asyncio.gather(*(outbox.deliver_due() for outbox in outboxes))
        texts = [text for end in far_ends for _, _, text in end.arrived]
        assert len(texts) == 400 and len(set(texts)) == 400
        assert all(end.arrived for end in far_ends)  # both took a share
        with session_scope(stores[0]) as session:
            assert set(session.exec(select(Message.status))) == {"sent"}
    finally:
        for store in stores:
            store.dispose()


async def test_outcomes_the_store_could_not_take_are_kept_and_recorded_at_the_next_try(database):
    time, clock = FakeTime(), Clock()
    far_end = Channel(time, channel="test")
    outbox = Outbox(database, {"test": far_end}, clock=clock, timer=(time, time.sleep))
    [message] = queue(database, "test:1", "hello")
    record, tries = outbox._record_all, []

    def locked_once(batch):
        tries.append(batch)
        if len(tries) == 1:
            raise RuntimeError("database is locked")
        record(batch)

    outbox._record_all = locked_once
    await outbox.deliver_due()
    with session_scope(database) as session:
        assert session.get(Message, message).status == "sent"
    assert len(tries) == 2 and len(far_end.arrived) == 1


async def _until(check, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not in time")


async def test_a_reply_queued_while_a_broadcast_goes_waits_for_at_most_a_round_of_it(database):
    time, clock = FakeTime(), Clock()
    far_end = Channel(time, channel="test")
    far_end.per_second = 10.0  # a round: half a second of sends, five messages
    outbox = Outbox(database, {"test": far_end}, clock=clock, timer=(time, time.sleep))
    for n in range(120):
        queue(database, f"test:{n}", "Bazaar on Sunday", broadcast=True)
    sent_before_reply = []

    async def send(message):
        result = await Channel.send(far_end, message)
        if len(far_end.arrived) == 40:  # a citizen's answer is queued mid-broadcast
            queue(database, "test:ana", "Your request KX-1234 is in progress")
            sent_before_reply.append(len(far_end.arrived))
            outbox.notify()
        return result

    far_end.send = send
    running = asyncio.create_task(outbox.run(idle_seconds=0.05))
    await _until(lambda: any(text.startswith("Your request") for _, _, text in far_end.arrived))
    outbox.stop()
    await running
    reply_at = next(i for i, (_, _, text) in enumerate(far_end.arrived) if text.startswith("Your request"))
    assert reply_at - sent_before_reply[0] <= 8  # what was claimed already (a round and a half at most), then the reply


async def test_a_slow_channel_never_holds_a_fast_one(database):
    time, clock = FakeTime(), Clock()
    fast, slow = Channel(time, channel="fast"), Channel(time, channel="slow")
    released = asyncio.Event()

    async def stuck(message):
        await released.wait()
        return SendResult.sent("slow")

    slow.send = stuck
    outbox = Outbox(database, {"fast": fast, "slow": slow}, clock=clock, timer=(time, time.sleep))
    queue(database, "slow:1", "Bazaar on Sunday", broadcast=True)
    for n in range(250):  # more than one round of a channel with no limit
        queue(database, f"fast:{n}", "Bazaar on Sunday", broadcast=True)
    running = asyncio.create_task(outbox.run(idle_seconds=0.05))
    try:
        await _until(lambda: len(fast.arrived) == 250)
    finally:
        released.set()
        outbox.stop()
        await running


async def test_what_a_send_must_look_up_is_looked_up_before_the_channels_turn(database):
    time, clock = FakeTime(), Clock()
    events: list[tuple[str, str]] = []

    class LooksUpFirst(Channel):
        async def prepare(self, message):
            events.append(("look up", message.address))

            async def send():
                events.append(("send", message.address))
                return await Channel.send(self, message)
            return send

    far_end = LooksUpFirst(time, channel="test")
    outbox = Outbox(database, {"test": far_end}, clock=clock, timer=(time, time.sleep))
    limiter = outbox.limiters["test"]
    real_wait = limiter.wait

    async def turn():
        answered = await real_wait()
        events.append(("turn", ""))
        return answered

    limiter.wait = turn
    queue(database, "test:ana", "Bazaar on Sunday")
    await outbox.deliver_due()
    assert events == [("look up", "test:ana"), ("turn", ""), ("send", "test:ana")]
    assert len(far_end.arrived) == 1
