"""The store-backed :class:`flows.view.View` a flow reads through during one
message's transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlalchemy.engine import Connection, Row
from sqlmodel import Session

from bot.catalog import Catalog
from flows.classifier import Classification
from flows.tracking import new_code
from flows.service_search import ServiceIndex
from flows.view import BookingInfo, CategoryInfo, CitizenInfo, LocalityInfo, PersonalData, RequestInfo, VisitInfo
from storage import message_path as path
from flows.duplicates import RULES, Rules
from storage import groups, privacy, visits
from storage.models import Citizen, Visit, utcnow


class StoreView:
    def __init__(self, conn: Connection, citizen: Row, catalog: Catalog, make_code: Callable[[], str] = new_code,
                 duplicate_rules: Rules = RULES):
        self._conn = conn
        self._citizen_id = citizen.id
        self._catalog = catalog
        self._make_code = make_code
        self._reader: Session | None = None
        self._duplicate_rules = duplicate_rules
        self.citizen = CitizenInfo(
            citizen.id, citizen.language, citizen.locality_id, citizen.consent, citizen.display_name,
            broadcasts_opted_out=citizen.broadcasts_opted_out_at is not None,
        )

    def categories(self) -> list[CategoryInfo]:
        return self._catalog.categories

    def category(self, category_id: str) -> CategoryInfo | None:
        return self._catalog.category(category_id)

    def service_index(self) -> ServiceIndex:
        return self._catalog.service_index()

    def next_visits(self, locality_id: str | None, service_id: str | None = None, limit: int = 3) -> list[VisitInfo]:
        """The next mobile-unit visits to a locality (offering ``service_id``
        when given), soonest first."""
        if not locality_id:
            return []
        return [_visit_info(v) for v in visits.upcoming(self._session, [locality_id], utcnow(), service_id, limit)]

    def nearby_visits(self, locality_id: str, service_id: str | None = None, limit: int = 3) -> list[VisitInfo]:
        """Visits elsewhere in the citizen's district, else their region; the
        nearest places first, then the soonest."""
        for area in self._catalog.areas_around(locality_id):
            places = [p for p in self._catalog.within(area) if p != locality_id]
            found = visits.upcoming(self._session, places, utcnow(), service_id)
            if found:
                found.sort(key=lambda v: (self._catalog.distance(locality_id, v.locality_id), v.starts_at))
                return [_visit_info(v) for v in found[:limit]]
        return []

    def similar_open_request(self, text: str, category_id: str) -> RequestInfo | None:
        """The citizen's own open request for the same need, filed lately."""
        found = groups.similar_mine(self._conn, self._citizen_id, text, category_id, self._duplicate_rules)
        return RequestInfo(found.code, found.category_id, found.status, found.text, found.created_at, found.updated_at) if found else None

    def visit(self, visit_id: int) -> VisitInfo | None:
        found = self._session.get(Visit, visit_id)
        return _visit_info(found) if found is not None and found.status == "planned" and found.ends_at > utcnow() else None

    def places_left(self, visit_id: int, service_id: str) -> int | None:
        found = self._session.get(Visit, visit_id)
        return visits.places_left(self._session, found, service_id) if found is not None else 0

    def my_bookings(self) -> list[BookingInfo]:
        return [BookingInfo(b.id, _visit_info(v), b.service_id, b.number) for b, v in visits.bookings_of(self._session, self._citizen_id, utcnow())]

    def subscribed(self, locality_id: str) -> bool:
        return visits.subscribed(self._session, self._citizen_id, locality_id)

    @property
    def _session(self) -> Session:
        if self._reader is None:
            self._reader = Session(bind=self._conn)
        return self._reader

    def classify(self, text: str) -> Classification:
        return self._catalog.current_classifier(self._conn).classify(text)

    def localities(self, parent_id: str | None) -> list[LocalityInfo]:
        return self._catalog.children.get(parent_id, [])

    def locality(self, locality_id: str) -> LocalityInfo | None:
        return self._catalog.localities.get(locality_id)

    def nearest_locality(self, latitude: float, longitude: float) -> tuple[LocalityInfo, float] | None:
        return self._catalog.nearest_locality(latitude, longitude)

    def my_requests(self, limit: int = 10) -> list[RequestInfo]:
        return [self._info(r) for r in path.requests_of(self._conn, self._citizen_id, limit)]

    def request_by_code(self, code: str) -> RequestInfo | None:
        """The citizen's own request with ``code``; another's is as good as none."""
        request = path.request_by_code(self._conn, code)
        if request is None or request.citizen_id != self._citizen_id:
            return None
        merged_into = path.code_of(self._conn, request.duplicate_of_id) if request.duplicate_of_id else None
        return replace(self._info(request), merged_into=merged_into)

    def my_data(self) -> PersonalData:
        session = Session(bind=self._conn)
        citizen = session.get(Citizen, self._citizen_id)
        messages_in, messages_out = privacy.message_counts(session, self._citizen_id)
        return PersonalData(
            name=citizen.display_name, language=citizen.language, locality_id=citizen.locality_id,
            addresses=tuple(privacy.addresses_of(session, self._citizen_id)),
            consent=citizen.consent, consent_at=citizen.consent_at,
            announcements_stopped_at=citizen.broadcasts_opted_out_at,
            requests=tuple(self.my_requests(limit=1000)), messages_in=messages_in, messages_out=messages_out,
        )

    def new_code(self) -> str:
        return path.free_code(self._conn, self._make_code)

    def _info(self, r: Row) -> RequestInfo:
        return RequestInfo(r.code, r.category_id, r.status, r.text, r.created_at, r.updated_at, mine=r.citizen_id == self._citizen_id)


def _visit_info(visit: Visit) -> VisitInfo:
    return VisitInfo(visit.id, visit.locality_id, visit.starts_at, visit.ends_at, tuple(visit.services or ()))
