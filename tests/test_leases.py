"""Several processes, one store: a lease gives one of them a job at a time,
and a key queues a message once whoever queues it. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from notifications.scheduler import LEASE, Scheduler
from storage import casework, leases
from storage.db import session_scope
from storage.models import Message, utcnow

TTL = timedelta(seconds=30)


def test_one_holder_at_a_time_and_a_dead_one_is_replaced(database):
    now = utcnow()
    assert leases.take(database, "job", "a", now, TTL)
    assert not leases.take(database, "job", "b", now + timedelta(seconds=5), TTL)
    assert leases.take(database, "job", "a", now + timedelta(seconds=20), TTL)  # renewed...
    assert not leases.take(database, "job", "b", now + timedelta(seconds=45), TTL)  # ...so still a's
    assert leases.take(database, "job", "b", now + timedelta(seconds=51), TTL)  # a stopped renewing
    assert not leases.take(database, "job", "a", now + timedelta(seconds=52), TTL)


def test_giving_up_lets_another_take_it_at_once(database):
    now = utcnow()
    assert leases.take(database, "job", "a", now, TTL)
    leases.give_up(database, "job", "b")  # not b's to give
    assert not leases.take(database, "job", "b", now, TTL)
    leases.give_up(database, "job", "a")
    assert leases.take(database, "job", "b", now, TTL)


async def test_three_schedulers_run_a_job_once(database, catalog):
    ran = []
    schedulers = [Scheduler(database, catalog) for _ in range(3)]
    for scheduler in schedulers:
        scheduler.table["count"] = (lambda now, s=scheduler: ran.append(s.holder), 1)
    results = await asyncio.gather(*(s.run("count") for s in schedulers))
    assert sum(results) == 1 and len(ran) == 1
    leader = next(s for s, r in zip(schedulers, results) if r)
    leader.shutdown()  # a clean stop hands the lease over at once
    assert sum(await asyncio.gather(*(s.run("count") for s in schedulers if s is not leader))) == 1
    assert len(set(ran)) == 2


async def test_a_stopped_leaders_jobs_pass_to_another_after_the_lease(database, catalog):
    clock = [utcnow()]
    first, second = (Scheduler(database, catalog, clock=lambda: clock[0]) for _ in range(2))
    assert await first.lead() and not await second.lead()
    clock[0] += LEASE + timedelta(seconds=1)  # first died without a word
    assert await second.lead()
    assert not await first.lead()


def test_a_message_under_a_key_is_queued_once(database):
    for _ in range(2):
        with session_scope(database) as session:
            queued = casework.queue_once(session, "reminder:7:eve", "console:ana", "Tomorrow the mobile unit comes")
    assert queued is False
    with session_scope(database) as session:
        rows = session.exec(select(Message).where(Message.dedupe_key == "reminder:7:eve")).all()
    assert len(rows) == 1 and rows[0].status == "queued" and rows[0].direction == "out"
