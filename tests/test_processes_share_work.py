"""Work that one process must do for all, with real processes on one
PostgreSQL: the scheduler's job runs once with three processes up, a killed
leader's jobs pass to another after its lease, and messages claimed by a
process killed before sending go out, once each, from the others."""

from __future__ import annotations

import multiprocessing
import os
import signal
from datetime import timedelta

import pytest
from sqlmodel import select

from notifications.outbox import LEASE as OUTBOX_LEASE
from notifications.scheduler import LEASE as SCHEDULER_LEASE
from storage.db import session_scope
from storage.models import Message, utcnow
from tests import process_worker

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
spawn = multiprocessing.get_context("spawn")


class Started:
    """Worker processes started from ``tests.process_worker``, killed at the end."""

    def __init__(self):
        self.answers, self.go, self.workers = spawn.Queue(), spawn.Event(), []

    def start(self, target, *args) -> None:
        worker = spawn.Process(target=target, args=(*args, self.answers) if target is process_worker.claim else (*args, self.go, self.answers), daemon=True)
        worker.start()
        self.workers.append(worker)

    def answer(self):
        return self.answers.get(timeout=180)

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        next(w for w in self.workers if w.pid == pid).join(30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for worker in self.workers:
            if worker.is_alive():
                worker.kill()
            worker.join(30)


def test_three_processes_up_the_job_runs_once_and_a_killed_leaders_passes_on(database_url, database, tmp_path):
    ran = tmp_path / "ran"
    with Started() as started:
        for _ in range(3):
            started.start(process_worker.lead, database_url, 0, str(ran))
        assert [started.answer()[0] for _ in range(3)] == ["ready"] * 3
        started.go.set()  # all three try at once
        outcomes = dict(started.answer() for _ in range(3))
        assert sorted(outcomes.values()) == [False, False, True]
        leader = next(pid for pid, led in outcomes.items() if led)
        assert ran.read_text().split() == [str(leader)]

        started.kill(leader)  # no clean stop: its lease is not given up
        started.go = spawn.Event()
        started.start(process_worker.lead, database_url, 0, str(ran))  # while the lease holds: not this one
        later = SCHEDULER_LEASE.total_seconds() + 1
        started.start(process_worker.lead, database_url, later, str(ran))  # after it ran out
        assert [started.answer()[0] for _ in range(2)] == ["ready"] * 2
        started.go.set()
        second = dict(started.answer() for _ in range(2))
        assert sorted(second.values()) == [False, True]
        assert ran.read_text().split() == [str(leader), str(next(pid for pid, led in second.items() if led))]


def test_messages_claimed_by_a_killed_process_go_out_once_each_from_the_others(database_url, database, tmp_path):
    with session_scope(database) as session:
        for number in range(300):
            session.add(Message(direction="out", channel="test", address=f"test:{number % 40}", text=f"m{number}",
                                status="queued", created_at=utcnow()))
    sent = tmp_path / "sent"
    with Started() as started:
        started.start(process_worker.claim, database_url)
        _, dead, claimed = started.answer()
        assert len(claimed) == 300
        started.kill(dead)
        with session_scope(database) as session:
            assert set(session.exec(select(Message.status)).all()) == {"sending"}  # all waiting for the dead one's lease

        later = OUTBOX_LEASE.total_seconds() + 1
        for _ in range(2):
            started.start(process_worker.drain, database_url, later, str(sent))
        assert [started.answer()[0] for _ in range(2)] == ["ready"] * 2
        started.go.set()
        counts = dict(started.answer() for _ in range(2))

    texts = sent.read_text().split()
    assert sorted(texts) == sorted(f"m{number}" for number in range(300))  # every one, none twice
    assert sum(counts.values()) == 300 and all(counts.values())  # both processes took a share
    with session_scope(database) as session:
        assert set(session.exec(select(Message.status)).all()) == {"sent"}


def test_before_the_lease_runs_out_another_process_leaves_claimed_messages_alone(database_url, database, tmp_path):
    with session_scope(database) as session:
        session.add(Message(direction="out", channel="test", address="test:1", text="only", status="queued", created_at=utcnow()))
    with Started() as started:
        started.start(process_worker.claim, database_url)
        _, dead, claimed = started.answer()
        started.kill(dead)
        started.start(process_worker.drain, database_url, OUTBOX_LEASE.total_seconds() - 20, str(tmp_path / "sent"))
        assert started.answer()[0] == "ready"
        started.go.set()
        with pytest.raises(Exception):  # nothing due yet: it is still waiting when the test stops looking
            started.answers.get(timeout=5)
    assert not (tmp_path / "sent").exists() and timedelta(seconds=20) < OUTBOX_LEASE
