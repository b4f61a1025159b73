"""Whether the outbox keeps up, for ``/healthz``: how many replies wait to
go (by status), how long the oldest has waited, how many are held for the
citizen and how many failed. Past the thresholds (``OUTBOX_ALERT_*``) the
check fails with the reason, so monitoring can call a person: replies that
do not leave are as bad as a bot that is down, and a restart does not cure
them (a channel down, a wrong token, a template refused)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage import undelivered
from storage.db import session_scope


@dataclass(frozen=True)
class Alerts:
    due: int = 1000  # messages waiting to go
    age: timedelta = timedelta(minutes=15)  # how long the oldest may wait
    failed: int = 20  # given up within a day; 0: not checked


def check(database, channels: list[str], alerts: Alerts, now: datetime) -> tuple[bool, dict]:
    """(healthy, the figures and any problems) for the outbox on ``channels``."""
    with session_scope(database) as session:
        backlog = undelivered.backlog(session, now, channels=channels)
    waited = now - backlog.oldest_waiting_at if backlog.oldest_waiting_at else timedelta(0)
    problems = []
    if backlog.due > alerts.due:
        problems.append(f"{backlog.due} messages waiting to go (more than {alerts.due})")
    if waited > alerts.age:
        problems.append(f"the oldest message waiting has waited {waited.total_seconds() / 60:.0f} min (more than {alerts.age.total_seconds() / 60:.0f})")
    if alerts.failed and backlog.failed_recently >= alerts.failed:
        problems.append(f"{backlog.failed_recently} messages failed in the last 24 hours ({alerts.failed} or more)")
    report = {
        "due": backlog.due,
        "due_by_status": backlog.waiting,
        "oldest_due_seconds": round(max(waited.total_seconds(), 0.0)),
        "held": backlog.held,
        "failed": backlog.failed,
        "failed_last_24h": backlog.failed_recently,
        "problems": problems,
    }
    return not problems, report
