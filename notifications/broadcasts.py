"""Sending announcements: a confirmed broadcast, once its time has come, is
written to the outbox a batch at a time; the outbox sends it behind every
reply to a citizen, at the channels' pace.

Each recipient gets the text in their language, else the author's
fallback; an announcement waits out the night (21:00-08:00) in the
recipient's own time zone unless it is urgent; a citizen who said STOP
gets none — their row is written as ``skipped``, so the record says why.

Crash safety: each batch is one transaction that writes its rows and moves
the broadcast's cursor past them. A crash loses at most a batch not yet
committed, which the next run writes; a row's unique key (broadcast and
person) means a batch written twice adds nothing. What happens to a row
after that is the outbox's guarantee (see :mod:`notifications.outbox`).

Pace: a broadcast is written only :data:`AHEAD` rows ahead of its sends.
Writing 100,000 rows at once would hold the process for tens of seconds
while it sends, spacing the sends unevenly; a few thousand every few
seconds keep the outbox fed (far faster than any channel sends) without it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_
from sqlmodel import select

from flows.view import TIME_ZONES
from notifications.visits import after_quiet_hours
from storage import broadcasts as store
from storage.db import session_scope
from storage.models import Broadcast, utcnow

log = logging.getLogger(__name__)
PRIORITY = 1  # behind replies (0): a citizen's answer never waits for an announcement
DUE = ("confirmed", "writing")
AHEAD = 5000  # rows of one broadcast waiting to go, past which the next batch waits for the next run
# A number's country says its clock when the citizen named no place.
PHONE_ZONES = {"+998": TIME_ZONES["UZ"], "+54": TIME_ZONES["AR"]}


def text_for(broadcast: Broadcast, language: str | None) -> str:
    return broadcast.texts.get(language or "") or broadcast.texts[broadcast.fallback]


def zone_for(catalog, recipient: store.Recipient, fallback: ZoneInfo) -> ZoneInfo:
    place = catalog.localities.get(recipient.locality_id) if recipient.locality_id else None
    if place is not None:
        return place.zone
    number = recipient.address.partition(":")[2]
    for prefix, zone in PHONE_ZONES.items():
        if number.startswith(prefix):
            return ZoneInfo(zone)
    return fallback


def write_due(database, catalog, now: datetime | None = None, *, batch: int = store.BATCH, ahead: int = AHEAD) -> int:
    """Write the recipients of every broadcast whose time has come, up to
    ``ahead`` waiting to go; returns how many outbox rows were written."""
    now = now or utcnow()
    with session_scope(database) as session:
        due = list(session.exec(select(Broadcast.id).where(
            Broadcast.status.in_(DUE), or_(Broadcast.send_at.is_(None), Broadcast.send_at <= now),
        ).order_by(Broadcast.id)))
    written = 0
    for broadcast_id in due:
        more = True
        while more:
            step, more = _write_batch(database, catalog, broadcast_id, now, batch, ahead)
            written += step
    if written:
        log.info("wrote %d announcement messages to the outbox", written)
    return written


def _write_batch(database, catalog, broadcast_id: int, now: datetime, batch: int, ahead: int) -> tuple[int, bool]:
    """One batch of one broadcast, in one transaction: the rows and the
    cursor move together. Returns how many were written and whether to
    write another now."""
    with session_scope(database) as session:
        broadcast = store.lock(session, broadcast_id)
        if broadcast is None or broadcast.status not in DUE:  # cancelled meanwhile, or finished by another process
            return 0, False
        if store.waiting(session, broadcast_id, now) >= ahead:  # enough to send for now: the next run writes more
            return 0, False
        found, cursor = next(store.recipients(session, broadcast.audience, broadcast.cursor, batch))
        zone = ZoneInfo(broadcast.audience.get("zone") or "UTC")
        written = store.write(session, [_row(catalog, broadcast, person, zone, now) for person in found])
        broadcast.cursor, broadcast.recipients, broadcast.status = cursor, broadcast.recipients + written, "writing"
        done = cursor["phase"] >= len(store.PHASES)
        if done:
            broadcast.status, broadcast.finished_at = "queued", now
        session.add(broadcast)
        return written, not done


def _row(catalog, broadcast: Broadcast, person: store.Recipient, zone: ZoneInfo, now: datetime) -> dict:
    quiet_until = None
    if not broadcast.urgent:
        quiet_until = after_quiet_hours(now, _Place(zone_for(catalog, person, zone)))
    body = text_for(broadcast, person.language)
    return dict(
        direction="out", channel=person.address.split(":", 1)[0], address=person.address, citizen_id=person.citizen_id,
        request_id=None, external_id=None, text=body, payload={"template": "broadcast"},
        status=store.SKIPPED if person.opted_out else "queued",
        error="the citizen opted out of announcements" if person.opted_out else None,
        attempts=0, next_attempt_at=None if person.opted_out else quiet_until, created_at=now,
        dedupe_key=f"b{broadcast.id}:{person.key}", broadcast_id=broadcast.id, priority=PRIORITY,
    )


class _Place:
    """Enough of a locality for :func:`after_quiet_hours`: its zone."""

    def __init__(self, zone: ZoneInfo):
        self.zone = zone
