"""Where a mobile unit is most needed: per locality and service, the places
booked at coming visits, the open requests of the service's category, the
questions asked about it where no visit brings it, and the locality's
subscribers. ``/demand`` and ``onewindow report demand`` show the same rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from flows import lifecycle
from storage.models import Booking, Request, ServiceQuestion, Visit, VisitSubscription, utcnow


@dataclass
class DemandRow:
    locality_id: str
    service_id: str | None  # None: the locality's requests and subscribers, no service named
    bookings: int = 0
    open_requests: int = 0
    questions: int = 0
    subscribers: int = 0

    @property
    def total(self) -> int:
        return self.bookings + self.open_requests + self.questions + self.subscribers

    def place_name(self, catalog, language: str) -> str:
        place = catalog.localities.get(self.locality_id)
        return place.name(language) if place else self.locality_id

    def service_name(self, catalog, language: str) -> str:
        service = catalog.services().get(self.service_id) if self.service_id else None
        return service.text("names", language) if service else (self.service_id or "—")


def demand_rows(session: Session, catalog, area: str | None = None) -> list[DemandRow]:
    """The rows, the most needed first (by the sum of the four figures)."""
    places = set(catalog.within(area)) if area else None
    catalogue = catalog.services()
    bookings = Counter(
        (locality, service) for locality, service in session.exec(
            select(Visit.locality_id, Booking.service_id).join(Visit, Visit.id == Booking.visit_id)
            .where(Booking.status == "booked", Visit.status == "planned", Visit.ends_at > utcnow())
        )
    )
    questions = Counter(
        (locality, service) for locality, service in session.exec(
            select(ServiceQuestion.locality_id, ServiceQuestion.service_id)
            .where(ServiceQuestion.visit_scheduled.is_(False), ServiceQuestion.locality_id.is_not(None))
        )
    )
    requests = dict(((locality, category), count) for locality, category, count in session.exec(
        select(Request.locality_id, Request.category_id, func.count())
        .where(Request.status.in_(lifecycle.OPEN), Request.locality_id.is_not(None))
        .group_by(Request.locality_id, Request.category_id)
    ))
    subscribers = dict(session.exec(
        select(VisitSubscription.locality_id, func.count()).group_by(VisitSubscription.locality_id)
    ).all())

    rows: dict[tuple[str, str | None], DemandRow] = {}
    for locality, service in set(bookings) | set(questions):
        rows[(locality, service)] = DemandRow(locality, service, bookings[(locality, service)], 0, questions[(locality, service)])
    counted: set[tuple[str, str]] = set()
    for (locality, service), row in rows.items():
        found = catalogue.get(service) if service else None
        if found is not None:
            row.open_requests = requests.get((locality, found.category_id), 0)
            counted.add((locality, found.category_id))
    for locality in {loc for loc, _ in requests} | set(subscribers):
        if not any(key[0] == locality for key in rows):
            rows[(locality, None)] = DemandRow(locality, None)
    for (locality, service), row in rows.items():
        row.subscribers = subscribers.get(locality, 0)
        if service is None:
            row.open_requests = sum(n for (loc, category), n in requests.items() if loc == locality and (loc, category) not in counted)
    chosen = [r for r in rows.values() if places is None or r.locality_id in places]
    return sorted(chosen, key=lambda r: (-r.total, -r.bookings, r.locality_id, r.service_id or ""))
