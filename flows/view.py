"""What a flow may read about the world, and nothing more.

The engine hands each step an object that satisfies :class:`View`, backed by
the store; tests hand it a small in-memory one. Flows never write through it:
they return actions instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from flows.classifier import Classification
from flows.service_search import ServiceIndex


# Where each country's localities keep their clocks (one zone per country
# served today; a country with several zones would name them per region).
TIME_ZONES = {"UZ": "Asia/Tashkent", "AR": "America/Argentina/Buenos_Aires"}


@dataclass(frozen=True)
class CitizenInfo:
    id: int | None
    language: str | None
    locality_id: str | None
    consent: bool | None
    name: str | None = None
    broadcasts_opted_out: bool = False  # said STOP to announcements


@dataclass(frozen=True)
class LocalityInfo:
    id: str
    kind: str
    parent_id: str | None
    names: dict[str, str]
    latitude: float | None = None
    longitude: float | None = None
    country: str | None = None

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get("en") or next(iter(self.names.values()), self.id)

    @property
    def zone(self) -> ZoneInfo:
        """The locality's time zone: visit times and reminders are local."""
        return ZoneInfo(TIME_ZONES.get(self.country or "", "UTC"))


@dataclass(frozen=True)
class CategoryInfo:
    id: str
    names: dict[str, str]
    descriptions: dict[str, str] = field(default_factory=dict)

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get("en") or self.id

    def description(self, language: str) -> str:
        return self.descriptions.get(language) or self.descriptions.get("en") or ""


@dataclass(frozen=True)
class VisitInfo:
    """A mobile-unit visit to a locality (times in UTC)."""

    id: int
    locality_id: str
    starts_at: datetime
    ends_at: datetime
    service_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class BookingInfo:
    """The citizen's place in the queue at a visit."""

    id: int
    visit: VisitInfo
    service_id: str
    number: int


@dataclass(frozen=True)
class RequestInfo:
    code: str
    category_id: str
    status: str
    text: str
    created_at: datetime
    updated_at: datetime
    mine: bool = True
    merged_into: str | None = None  # the code of the request a duplicate continues as


@dataclass(frozen=True)
class PersonalData:
    """What the store keeps about the citizen, for ``/mydata``."""

    name: str | None
    language: str | None
    locality_id: str | None
    addresses: tuple[str, ...]
    consent: bool | None
    consent_at: datetime | None
    announcements_stopped_at: datetime | None
    requests: tuple[RequestInfo, ...]
    messages_in: int
    messages_out: int


class View(Protocol):
    citizen: CitizenInfo

    def categories(self) -> list[CategoryInfo]: ...

    def category(self, category_id: str) -> CategoryInfo | None: ...

    def classify(self, text: str) -> Classification: ...

    def localities(self, parent_id: str | None) -> list[LocalityInfo]: ...

    def locality(self, locality_id: str) -> LocalityInfo | None: ...

    def nearest_locality(self, latitude: float, longitude: float) -> tuple[LocalityInfo, float] | None: ...

    def my_requests(self, limit: int = 10) -> list[RequestInfo]: ...

    def request_by_code(self, code: str) -> RequestInfo | None: ...

    def new_code(self) -> str: ...

    def my_data(self) -> PersonalData: ...

    def service_index(self) -> ServiceIndex: ...

    def next_visits(self, locality_id: str | None, service_id: str | None = None, limit: int = 3) -> list[VisitInfo]: ...

    def nearby_visits(self, locality_id: str, service_id: str | None = None, limit: int = 3) -> list[VisitInfo]: ...

    def similar_open_request(self, text: str, category_id: str) -> RequestInfo | None: ...

    def visit(self, visit_id: int) -> VisitInfo | None: ...

    def places_left(self, visit_id: int, service_id: str) -> int | None: ...

    def my_bookings(self) -> list[BookingInfo]: ...

    def subscribed(self, locality_id: str) -> bool: ...
