"""The store-backed :class:`flows.view.View` a flow reads through during one
message's transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Connection, Row
from sqlmodel import Session

from bot.catalog import Catalog
from flows.classifier import Classification
from flows.tracking import new_code
from flows.service_search import ServiceIndex
from flows.view import CategoryInfo, CitizenInfo, LocalityInfo, PersonalData, RequestInfo, VisitInfo
from storage import message_path as path
from storage import privacy
from storage.models import Citizen


class StoreView:
    def __init__(self, conn: Connection, citizen: Row, catalog: Catalog, make_code: Callable[[], str] = new_code):
        self._conn = conn
        self._citizen_id = citizen.id
        self._catalog = catalog
        self._make_code = make_code
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
        when given), soonest first. No visits are scheduled yet."""
        return []

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
        return self._info(request) if request and request.citizen_id == self._citizen_id else None

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
        for _ in range(20):
            code = self._make_code()
            if not path.code_exists(self._conn, code):
                return code
        raise RuntimeError("could not find a free tracking code")

    def _info(self, r: Row) -> RequestInfo:
        return RequestInfo(r.code, r.category_id, r.status, r.text, r.created_at, r.updated_at, mine=r.citizen_id == self._citizen_id)
