"""Telling people about visits: a new visit, a moved or cancelled one, and
the reminders the evening before (18:00) and the morning of (07:00), in
the locality's own time.

Every notice and reminder is queued under a unique key (the visit, what
happened, its time, the citizen): whoever queues it again — the same
process after a restart, or a second scheduler — queues nothing.

Booked citizens always hear about their own place (the ``status`` template
outside WhatsApp's window); subscribers hear as announcements (the
``broadcast`` template), which a citizen who said STOP does not get.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from sqlmodel import Session, select

from flows.i18n import text
from flows.visits import window
from flows.view import LocalityInfo
from storage import casework, visits
from storage.db import session_scope
from storage.models import Booking, Citizen, Visit, utcnow

log = logging.getLogger(__name__)
EVENING, MORNING = time(18, 0), time(7, 0)
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(8, 0)  # no announcements at night, the recipient's time


def when(visit: Visit, place: LocalityInfo | None, language: str | None) -> str:
    return window(visit.starts_at, visit.ends_at, place, language)


def services_line(catalog, visit: Visit, language: str | None) -> str:
    catalogue = catalog.services()
    return ", ".join(s.text("names", language or "en") for sid in visit.services or [] if (s := catalogue.get(sid))) or "—"


def line(catalog, visit: Visit, language: str | None) -> str:
    """"Tue 08.12, 09:00–13:00 — Sardoba: passport, ..." for staff lists."""
    place = catalog.localities.get(visit.locality_id)
    name = place.name(language or "en") if place else visit.locality_id
    return f"{when(visit, place, language)} — {name}: {services_line(catalog, visit, language)}"


def after_quiet_hours(now: datetime, place: LocalityInfo | None) -> datetime | None:
    """When an announcement written at ``now`` may go: at once (None), or at
    08:00 when it is between 21:00 and 08:00 in the locality."""
    if place is None:
        return None
    local = now.astimezone(place.zone)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    day = local.date() + timedelta(days=1) if local.time() >= QUIET_FROM else local.date()
    return datetime.combine(day, QUIET_UNTIL, tzinfo=place.zone).astimezone(now.tzinfo)


def tell(session: Session, catalog, visit: Visit, what: str, reason: str | None = None, *, now: datetime | None = None) -> int:
    """Tell everyone a visit concerns that it was planned (``new``), moved
    (``moved``) or cancelled (``cancelled``); returns how many were told.
    Those booked hear at once (it is about their place); subscribers, as
    with any announcement, not between 21:00 and 08:00 their time."""
    place = catalog.localities.get(visit.locality_id)
    quiet_until = after_quiet_hours(now or utcnow(), place)
    places = _places(session, visit)
    told = 0
    for citizen, address, booked in visits.audience(session, visit):
        language = citizen.language
        values = {"place": place.name(language or "en") if place else visit.locality_id, "when": when(visit, place, language)}
        number = places[citizen.id][0].number if citizen.id in places else None
        if what == "new":
            body = text(language, "visit_notice_new", services=services_line(catalog, visit, language), **values)
        elif what == "moved":
            booking = text(language, "visit_notice_your_number", number=number) if number else ""
            body = text(language, "visit_notice_moved", booking=booking, **values)
        else:
            body = text(language, "visit_notice_cancelled", reason=f"{reason}. " if reason else "", **values)
        key = f"visit:{visit.id}:{what}:{visit.starts_at:%Y%m%d%H%M}:{citizen.id}"
        told += _queue(session, key, address, body, citizen, booked, number, None if booked else quiet_until)
    return told


def _places(session: Session, visit: Visit) -> dict[int, list[Booking]]:
    """Each booked citizen's places at the visit, by queue number."""
    places: dict[int, list[Booking]] = {}
    for booking, _citizen in visits.roster(session, visit.id):
        if booking.citizen_id is not None and booking.status == "booked":
            places.setdefault(booking.citizen_id, []).append(booking)
    return places


def _queue(session: Session, key: str, address: str, body: str, citizen: Citizen, booked: bool, number: int | None,
           not_before: datetime | None = None) -> int:
    if booked:
        return int(casework.queue_once(session, key, address, body, citizen_id=citizen.id, template="status",
                                       template_variables={"1": f"№{number}", "2": body}))
    return int(casework.queue_once(session, key, address, body, citizen_id=citizen.id, template="broadcast", not_before=not_before))


# -- reminders ----------------------------------------------------------------

def due_reminders(visit: Visit, place: LocalityInfo | None, now: datetime) -> list[str]:
    """Which reminders of a visit are due at ``now``: ``evening`` from 18:00
    the day before until the morning one, ``morning`` from 07:00 of the day
    until the visit starts (a reminder missed while the bot was down still
    goes, while it is still of use)."""
    zone = place.zone if place else None
    starts = visit.starts_at.astimezone(zone) if zone else visit.starts_at
    evening = datetime.combine(starts.date() - timedelta(days=1), EVENING, tzinfo=starts.tzinfo)
    morning = min(datetime.combine(starts.date(), MORNING, tzinfo=starts.tzinfo), starts)
    due = []
    if evening <= now < morning:
        due.append("evening")
    if morning <= now < visit.starts_at:
        due.append("morning")
    return due


def send_reminders(database, catalog, now: datetime) -> int:
    """Queue the reminders now due, once each; returns how many were queued."""
    queued = 0
    with session_scope(database) as session:
        soon = session.exec(select(Visit).where(
            Visit.status == "planned", Visit.starts_at > now, Visit.starts_at <= now + timedelta(days=2),
        ).order_by(Visit.starts_at)).all()
        for visit in soon:
            place = catalog.localities.get(visit.locality_id)
            for kind in due_reminders(visit, place, now):
                queued += _remind(session, catalog, visit, place, kind)
    if queued:
        log.info("queued %d visit reminders", queued)
    return queued


def _remind(session: Session, catalog, visit: Visit, place: LocalityInfo | None, kind: str) -> int:
    bookings = _places(session, visit)
    catalogue = catalog.services()
    queued = 0
    for citizen, address, booked in visits.audience(session, visit):
        language = citizen.language
        extra = ""
        for booking in bookings.get(citizen.id, []):
            service = catalogue.get(booking.service_id)
            documents = "; ".join(d.get(language or "en") or d.get("en", "") for d in service.documents) if service else "—"
            extra += text(language, "visit_reminder_booking", number=booking.number,
                          service=service.text("names", language or "en") if service else booking.service_id, documents=documents or "—")
        body = text(language, f"visit_reminder_{kind}", place=place.name(language or "en") if place else visit.locality_id,
                    when=when(visit, place, language), booking=extra)
        key = f"visit:{visit.id}:remind-{kind}:{visit.starts_at:%Y%m%d%H%M}:{citizen.id}"
        number = bookings[citizen.id][0].number if citizen.id in bookings else None
        queued += _queue(session, key, address, body, citizen, booked, number)
    return queued
