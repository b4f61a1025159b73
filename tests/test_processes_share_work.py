"""Work that one process must do for all, with real processes on one
PostgreSQL: the scheduler's job runs once with three processes up, a killed
leader's jobs pass to another after its lease, and messages claimed by a
process killed before sending go out, once each, from the others."""

from __future__ import annotations

import multiprocessing
import os
import queue
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
    """Worker processes started from ``tests.process_worker``, each with a
    queue of its own for its answers (a process killed just after writing to
    a shared queue may still hold its lock), all killed at the end."""

    def __init__(self):
        self.go, self.workers = spawn.Event(), []

    def start(self, target, *args):
        """Start ``target`` and return its answers' queue."""
        answers = spawn.Queue()
        extra = (answers,) if target is process_worker.claim else (self.go, answers)
        worker = spawn.Process(target=target, args=(*args, *extra), daemon=True)
        worker.start()
        self.workers.append(worker)
        return answers

    @staticmethod
    def answers(queues) -> list:
        """One answer from each queue, in the queues' order."""
        return [queue.get(timeout=180) for queue in queues]

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
        queues = [started.start(process_worker.lead, database_url, 0, str(ran)) for _ in range(3)]
        assert [a[0] for a in started.answers(queues)] == ["ready"] * 3
        started.go.set()  # all three try at once
        outcomes = dict(started.answers(queues))
        assert sorted(outcomes.values()) == [False, False, True]
        leader = next(pid for pid, led in outcomes.items() if led)
        assert ran.read_text().split() == [str(leader)]

        started.kill(leader)  # no clean stop: its lease is not given up
        started.go = spawn.Event()
        later = SCHEDULER_LEASE.total_seconds() + 1
        queues = [started.start(process_worker.lead, database_url, 0, str(ran)),  # while the lease holds: not this one
                  started.start(process_worker.lead, database_url, later, str(ran))]  # after it ran out
        assert [a[0] for a in started.answers(queues)] == ["ready"] * 2
        started.go.set()
        second = dict(started.answers(queues))
        assert sorted(second.values()) == [False, True]
        assert ran.read_text().split() == [str(leader), str(next(pid for pid, led in second.items() if led))]


def test_messages_claimed_by_a_killed_process_go_out_once_each_from_the_others(database_url, database, tmp_path):
    with session_scope(database) as session:
        for number in range(300):
            session.add(Message(direction="out", channel="test", address=f"test:{number % 40}", text=f"m{number}",
                                status="queued", created_at=utcnow()))
    sent = tmp_path / "sent"
    with Started() as started:
        [(_, dead, claimed)] = started.answers([started.start(process_worker.claim, database_url)])
        assert len(claimed) == 300
        started.kill(dead)
        with session_scope(database) as session:
            assert set(session.exec(select(Message.status)).all()) == {"sending"}  # all waiting for the dead one's lease

        later = OUTBOX_LEASE.total_seconds() + 1
        queues = [started.start(process_worker.drain, database_url, later, str(sent)) for _ in range(2)]
        assert [a[0] for a in started.answers(queues)] == ["ready"] * 2
        started.go.set()
        counts = dict(started.answers(queues))

    texts = sent.read_text().split()
    assert sorted(texts) == sorted(f"m{number}" for number in range(300))  # every one, none twice
    assert sum(counts.values()) == 300 and all(counts.values())  # both processes took a share
    with session_scope(database) as session:
        assert set(session.exec(select(Message.status)).all()) == {"sent"}


def test_before_the_lease_runs_out_another_process_leaves_claimed_messages_alone(database_url, database, tmp_path):
    with session_scope(database) as session:
        session.add(Message(direction="out", channel="test", address="test:1", text="only", status="queued", created_at=utcnow()))
    with Started() as started:
        [(_, dead, claimed)] = started.answers([started.start(process_worker.claim, database_url)])
        assert len(claimed) == 1
        started.kill(dead)
        waiting = started.start(process_worker.drain, database_url, OUTBOX_LEASE.total_seconds() - 20, str(tmp_path / "sent"))
        assert started.answers([waiting])[0][0] == "ready"
        started.go.set()
        with pytest.raises(queue.Empty):  # nothing due yet: it is still waiting when the test stops looking
            waiting.get(timeout=5)
    assert not (tmp_path / "sent").exists() and timedelta(seconds=20) < OUTBOX_LEASE
