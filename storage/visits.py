"""Reading and writing visits, bookings and subscriptions.

Every function takes the session of the caller's transaction: a booking,
its queue number and the reply that announces it commit together or not
at all."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from storage.models import Booking, Citizen, ServiceQuestion, Visit, VisitSubscription, utcnow

ACTIVE = ("booked", "came")


def upcoming(session: Session, locality_ids: list[str] | None, now: datetime, service_id: str | None = None,
             limit: int | None = None) -> list[Visit]:
    """Planned visits not yet over, soonest first (to ``locality_ids`` when given)."""
    statement = select(Visit).where(Visit.status == "planned", Visit.ends_at > now).order_by(Visit.starts_at, Visit.id)
    if locality_ids is not None:
        statement = statement.where(Visit.locality_id.in_(locality_ids))
    visits = [v for v in session.exec(statement) if service_id is None or service_id in (v.services or [])]
    return visits[:limit] if limit else visits


def booked(session: Session, visit_id: int, service_id: str | None = None) -> int:
    """Places taken at a visit (for one service when given)."""
    statement = select(func.count()).select_from(Booking).where(Booking.visit_id == visit_id, Booking.status.in_(ACTIVE))
    if service_id is not None:
        statement = statement.where(Booking.service_id == service_id)
    return session.exec(statement).one()


def places_left(session: Session, visit: Visit, service_id: str) -> int | None:
    """How many places are left for ``service_id``; None when it has no cap."""
    limit = (visit.limits or {}).get(service_id)
    if limit is None:
        return None
    return max(0, int(limit) - booked(session, visit.id, service_id))


def lock(session: Session, visit_id: int) -> Visit | None:
    """The visit, locked until the transaction ends (PostgreSQL), so two
    bookings at once cannot take the same number or the last place twice.
    SQLite has one writer at a time already."""
    return session.exec(select(Visit).where(Visit.id == visit_id).with_for_update()).first()


def book(session: Session, visit_id: int, citizen_id: int | None, address: str | None, service_id: str) -> Booking | str:
    """Book a place, or say why not: ``gone`` (no such visit, cancelled or
    over), ``not_offered``, ``full``. A citizen who already holds a place for
    that service keeps it (the same booking is returned)."""
    visit = lock(session, visit_id)
    if visit is None or visit.status != "planned" or visit.ends_at <= utcnow():
        return "gone"
    if service_id not in (visit.services or []):
        return "not_offered"
    if citizen_id is not None:
        mine = session.exec(select(Booking).where(
            Booking.visit_id == visit_id, Booking.citizen_id == citizen_id, Booking.service_id == service_id, Booking.status == "booked",
        )).first()
        if mine is not None:
            return mine
    if places_left(session, visit, service_id) == 0:
        return "full"
    last = session.exec(select(func.max(Booking.number)).where(Booking.visit_id == visit_id)).one()
    booking = Booking(visit_id=visit_id, citizen_id=citizen_id, address=address, service_id=service_id, number=(last or 0) + 1)
    session.add(booking)
    session.flush()
    return booking


def bookings_of(session: Session, citizen_id: int, now: datetime) -> list[tuple[Booking, Visit]]:
    """The citizen's places at visits not yet over, soonest first."""
    statement = (
        select(Booking, Visit).join(Visit, Visit.id == Booking.visit_id)
        .where(Booking.citizen_id == citizen_id, Booking.status == "booked", Visit.status == "planned", Visit.ends_at > now)
        .order_by(Visit.starts_at, Booking.number)
    )
    return list(session.exec(statement))


def cancel_booking(session: Session, booking_id: int, citizen_id: int) -> Booking | None:
    booking = session.get(Booking, booking_id)
    if booking is None or booking.citizen_id != citizen_id or booking.status != "booked":
        return None
    booking.status, booking.updated_at = "cancelled", utcnow()
    session.add(booking)
    return booking


def roster(session: Session, visit_id: int) -> list[tuple[Booking, Citizen | None]]:
    statement = (
        select(Booking, Citizen).join(Citizen, Citizen.id == Booking.citizen_id, isouter=True)
        .where(Booking.visit_id == visit_id, Booking.status.in_(ACTIVE)).order_by(Booking.number)
    )
    return list(session.exec(statement))


def subscribed(session: Session, citizen_id: int, locality_id: str) -> bool:
    statement = select(VisitSubscription.id).where(VisitSubscription.citizen_id == citizen_id, VisitSubscription.locality_id == locality_id)
    return session.exec(statement).first() is not None


def subscribe(session: Session, citizen_id: int, locality_id: str, address: str, on: bool) -> None:
    current = session.exec(select(VisitSubscription).where(
        VisitSubscription.citizen_id == citizen_id, VisitSubscription.locality_id == locality_id)).first()
    if on and current is None:
        session.add(VisitSubscription(citizen_id=citizen_id, locality_id=locality_id, address=address))
    elif on:
        current.address = address  # the channel they use now
        session.add(current)
    elif current is not None:
        session.delete(current)


def audience(session: Session, visit: Visit, *, subscribers: bool = True) -> list[tuple[Citizen, str, bool]]:
    """Whom a visit concerns: ``(citizen, address, booked)``, each citizen
    once. Booked citizens always (it is about their own place); subscribers
    of the locality unless they stopped announcements."""
    people: dict[int, tuple[Citizen, str, bool]] = {}
    for booking, citizen in roster(session, visit.id):
        if citizen is not None and citizen.erased_at is None and booking.address and booking.status == "booked":
            people.setdefault(citizen.id, (citizen, booking.address, True))
    if subscribers:
        statement = (
            select(VisitSubscription, Citizen).join(Citizen, Citizen.id == VisitSubscription.citizen_id)
            .where(VisitSubscription.locality_id == visit.locality_id).order_by(VisitSubscription.id)
        )
        for subscription, citizen in session.exec(statement):
            if citizen.broadcasts_opted_out_at is None and citizen.erased_at is None:
                people.setdefault(citizen.id, (citizen, subscription.address, False))
    return list(people.values())


def record_question(session: Session, citizen_id: int | None, locality_id: str | None, service_id: str | None,
                    visit_scheduled: bool) -> None:
    session.add(ServiceQuestion(citizen_id=citizen_id, locality_id=locality_id, service_id=service_id, visit_scheduled=visit_scheduled))
