"""The dashboard's records of the field: the mobile units' visits and the
announcements, as rows for their pages."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta, timezone

from sqlmodel import select

from storage.db import session_scope
from storage.models import Booking, Broadcast, Message, Visit, utcnow

SHOWN_DAYS = 30  # visits that ended this long ago still show
ANNOUNCEMENTS = 100


def visits(database, catalog, language: str) -> list[tuple]:
    """(place, starts, ends in the place's local time, services, status, booked, came), soonest first."""
    since = utcnow() - timedelta(days=SHOWN_DAYS)
    with session_scope(database) as db:
        found = list(db.exec(select(Visit).where(Visit.ends_at >= since).order_by(Visit.starts_at)))
        counts = Counter(db.exec(
            select(Booking.visit_id, Booking.status).where(Booking.visit_id.in_([v.id for v in found] or [0]))))
    catalogue = catalog.services()
    rows = []
    for visit in found:
        place = catalog.localities.get(visit.locality_id)
        zone = place.zone if place else timezone.utc
        services = [catalogue.get(s).text("names", language) if catalogue.get(s) else s for s in visit.services or []]
        came = counts[(visit.id, "came")]
        rows.append((place.name(language) if place else visit.locality_id, visit.starts_at.astimezone(zone),
                     visit.ends_at.astimezone(zone), ", ".join(services) or "—", visit.status, counts[(visit.id, "booked")] + came, came))
    return rows


def announcements(database, language: str) -> list[tuple]:
    """(id, created, by, status, urgent, send at, text, recipients, sent, not delivered), newest first."""
    with session_scope(database) as db:
        items = list(db.exec(select(Broadcast).order_by(Broadcast.created_at.desc(), Broadcast.id.desc()).limit(ANNOUNCEMENTS)))
        outcomes = Counter(db.exec(
            select(Message.broadcast_id, Message.status).where(Message.broadcast_id.in_([b.id for b in items] or [0]))))
    return [(b.id, b.created_at, b.created_by, b.status, b.urgent, b.send_at,
             (b.texts.get(language) or b.texts.get(b.fallback) or "")[:160], b.recipients,
             outcomes[(b.id, "sent")], outcomes[(b.id, "failed")] + outcomes[(b.id, "blocked")]) for b in items]
