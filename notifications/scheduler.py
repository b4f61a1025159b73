"""The scheduler: APScheduler running the timed jobs in the bot's event
loop (each job in a worker thread, so the loop never waits on the store).

Several ``onewindow run`` processes may share one store; the timed jobs
must still run in one of them at a time, or a digest goes out twice. So the
scheduler holds a lease in the store (:mod:`storage.leases`), renewed every
few seconds: only the holder runs jobs. If it dies, the lease runs out and
another process's scheduler takes over within :data:`LEASE`. A job that
must act once per occasion (a reminder, a bazaar day) also writes under a
unique key (:func:`storage.casework.queue_once`), so even a run overlapping
a handover cannot double it.

A job is one line in :attr:`Scheduler.table`: a name, what to run (a
function of the store, the catalogue and the time) and how often.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from flows.masking import log_failure
from notifications import bazaar, broadcasts, jobs, retention, visits
from storage import leases
from storage.models import utcnow

log = logging.getLogger(__name__)
LEASE_NAME = "scheduler"
LEASE = timedelta(seconds=30)
RENEW_SECONDS = 10


class Scheduler:
    def __init__(self, database, catalog, *, on_queued=lambda: None, digest_minutes: float = 5, check_minutes: float = 5, clock=utcnow,
                 retention_months: int = 0):
        self.database, self.catalog, self.on_queued, self.clock = database, catalog, on_queued, clock
        self.retention_months = retention_months
        self.alive_at: datetime | None = None
        self.holder = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leading = False
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._running: set[asyncio.Future] = set()  # jobs' work in worker threads
        self._timer_stopped = False
        # name -> (what it runs, minutes between runs)
        self.table = {
            "digest": (lambda now: jobs.send_digests(self.database, self.catalog, now), digest_minutes),
            "deadlines": (lambda now: jobs.check_deadlines(self.database, self.catalog, now), check_minutes),
            "unconfirmed": (lambda now: jobs.close_unconfirmed(self.database, now), 60),
            "retention": (lambda now: retention.anonymize_expired(self.database, self.retention_months, now), 60),
            "visit_reminders": (lambda now: visits.send_reminders(self.database, self.catalog, now), 5),
            "announcements": (self.announce, 5 / 60),  # a confirmed announcement starts within seconds
        }

    def announce(self, now: datetime) -> int:
        """Bazaar days that have come become broadcasts; broadcasts whose
        time has come are written to the outbox."""
        bazaar.create_due(self.database, self.catalog, now)
        return broadcasts.write_due(self.database, self.catalog, now)

    def start(self) -> None:
        self._scheduler.add_job(self.heartbeat, "interval", seconds=RENEW_SECONDS, id="heartbeat", max_instances=1,
                                coalesce=True, next_run_time=self.clock())
        for name, (job, minutes) in self.table.items():
            self._scheduler.add_job(self.run, "interval", args=[name], minutes=minutes, id=name, max_instances=1,
                                    coalesce=True, next_run_time=self.clock() + timedelta(seconds=1))
        self._scheduler.start()

    def shutdown(self) -> None:
        self._stop_timer()
        if self.leading:
            try:
                leases.give_up(self.database, LEASE_NAME, self.holder)
            except Exception:
                log.warning("could not give up the scheduler lease; another process takes over when it runs out")
            self.leading = False

    async def stop(self) -> None:
        """No new runs; the job running now finishes its transaction, then the lease goes."""
        self._stop_timer()
        if self._running:
            await asyncio.wait(set(self._running))
        self.shutdown()

    def _stop_timer(self) -> None:
        """Stop APScheduler once (its shutdown is asynchronous: asked twice, the second fails)."""
        if self._scheduler.running and not self._timer_stopped:
            self._timer_stopped = True
            self._scheduler.shutdown(wait=False)

    async def heartbeat(self) -> None:
        """Say we are alive, and take or renew the lease."""
        self.alive_at = self.clock()
        await self.lead()

    async def lead(self) -> bool:
        try:
            leading = await asyncio.to_thread(leases.take, self.database, LEASE_NAME, self.holder, self.clock(), LEASE)
        except Exception:
            log_failure(log, "could not renew the scheduler lease; jobs wait until it can")
            leading = False
        if leading != self.leading:
            log.info("scheduler: %s", "this process runs the timed jobs" if leading else "another process runs the timed jobs")
        self.leading = leading
        return leading

    async def run(self, name: str) -> bool:
        """Run the job ``name`` if this process leads; True if it ran."""
        if not self.leading and not await self.lead():
            return False
        job, _ = self.table[name]
        work = asyncio.ensure_future(asyncio.to_thread(job, self.clock()))
        self._running.add(work)
        work.add_done_callback(self._running.discard)
        try:
            # Shutting APScheduler down cancels this coroutine, not the work in its thread.
            if await asyncio.shield(work):
                self.on_queued()
        except Exception:
            log_failure(log, "scheduled job %s failed; it runs again at its next turn", name)
        return True
