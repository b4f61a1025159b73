"""The scheduler: APScheduler running the queue's jobs in the bot's event
loop (each job in a worker thread, so the loop never waits on the store).

Visit reminders and bazaar-day announcements will join the same table.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from notifications import jobs
from storage.models import utcnow

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, database, catalog, *, on_queued=lambda: None, digest_minutes: float = 5, check_minutes: float = 5, clock=utcnow):
        self.database, self.catalog, self.on_queued, self.clock = database, catalog, on_queued, clock
        self.alive_at: datetime | None = None
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self.table = {
            "digest": (self.digest, digest_minutes),
            "deadlines": (self.deadlines, check_minutes),
            "unconfirmed": (self.unconfirmed, 60),
            "heartbeat": (self.heartbeat, 0.5),
        }

    def start(self) -> None:
        for name, (job, minutes) in self.table.items():
            self._scheduler.add_job(job, "interval", minutes=minutes, id=name, max_instances=1, coalesce=True, next_run_time=self.clock())
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def heartbeat(self) -> None:
        self.alive_at = self.clock()

    async def digest(self) -> None:
        await self._run(jobs.send_digests, self.database, self.catalog)

    async def deadlines(self) -> None:
        await self._run(jobs.check_deadlines, self.database, self.catalog)

    async def unconfirmed(self) -> None:
        await self._run(jobs.close_unconfirmed, self.database)

    async def _run(self, job, *args) -> None:
        try:
            if await asyncio.to_thread(job, *args, self.clock()):
                self.on_queued()
        except Exception:
            log.exception("scheduled job %s failed; it runs again at its next turn", job.__name__)
