"""The catalogue held in memory: categories, localities and the classifier
built from them. Read once from the store at start (they change rarely),
so answering a message costs no catalogue queries.

Caseworkers' corrections are the exception: they teach the classifier while
the bot runs. The process that records one learns it at once
(:meth:`Catalog.learn`); every other process notices within
:data:`RECHECK_SECONDS`, at the cost of one small query that often.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from flows.classifier import Classifier, Correction
from flows.keywords import CategoryTerms, KeywordClassifier
from flows.geo import haversine_km, nearest
from flows.routing import Routing
from flows.service_catalogue import ServiceCatalogue
from flows.service_search import ServiceIndex
from flows.view import CategoryInfo, LocalityInfo
from bot.model_cache import load_or_fit
from bot.services import ServiceFiles
from storage import learning, queries
from storage.db import session_scope
from storage.seed import read_seed


RECHECK_SECONDS = 10.0


@dataclass
class Catalog:
    categories: list[CategoryInfo]
    localities: dict[str, LocalityInfo]
    children: dict[str | None, list[LocalityInfo]]
    classifier: Classifier
    routing: Routing
    service_files: ServiceFiles | None = None
    _corrections_stamp: tuple | None = None
    _checked_at: float = 0.0
    _learning: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_store(cls, engine: Engine, models: Path | None = None) -> Catalog:
        """``models``: the folder of saved classifier models (see
        :mod:`bot.model_cache`); without it the model is fitted here."""
        with session_scope(engine) as session:
            category_rows = queries.categories(session)
            locality_rows = queries.localities(session)
        categories = [CategoryInfo(c.id, c.names, c.descriptions) for c in category_rows]
        terms = [CategoryTerms(c.id, tuple(word for words in c.keywords.values() for word in words)) for c in category_rows]
        localities = {
            row.id: LocalityInfo(row.id, row.kind, row.parent_id, row.names, row.latitude, row.longitude, row.country)
            for row in locality_rows
        }
        children: dict[str | None, list[LocalityInfo]] = {}
        for place in localities.values():
            children.setdefault(place.parent_id, []).append(place)
        model = load_or_fit(terms, models) if models is not None else None
        classifier = Classifier(KeywordClassifier(terms), model=model)
        catalog = cls(categories, localities, children, classifier, Routing.from_seed(read_seed("routing.json")))
        catalog.service_files = ServiceFiles({c.id for c in categories}, set(localities))
        with engine.connect() as conn:
            catalog.learn(conn)
        return catalog

    def learn(self, conn) -> None:
        """Take in the corrections in force now (no refit: the same model
        with another memory of corrected examples)."""
        with self._learning:
            stamp = learning.stamp(conn)
            if stamp != self._corrections_stamp:
                corrections = [Correction(i, text, category) for i, text, category in learning.active(conn)]
                self.classifier = self.classifier.with_corrections(corrections)
                self._corrections_stamp = stamp
            self._checked_at = time.monotonic()

    def current_classifier(self, conn) -> Classifier:
        """The classifier, with what other processes learned since the last look."""
        if time.monotonic() - self._checked_at >= RECHECK_SECONDS:
            self.learn(conn)
        return self.classifier

    def services(self) -> ServiceCatalogue:
        """The service catalogue, re-read if its files changed (see bot/services.py)."""
        return self.service_files.current() if self.service_files else ServiceCatalogue()

    def service_index(self) -> ServiceIndex:
        return self.service_files.current_index() if self.service_files else ServiceIndex(ServiceCatalogue())

    def places_of(self, locality_id: str | None) -> list[str]:
        """A locality and every locality above it, nearest first."""
        places = []
        while locality_id and locality_id in self.localities and locality_id not in places:
            places.append(locality_id)
            locality_id = self.localities[locality_id].parent_id
        return places

    def areas_around(self, locality_id: str) -> list[str]:
        """The district, then the region, around a locality."""
        return self.places_of(locality_id)[1:]

    def within(self, area_id: str) -> list[str]:
        """An area and every locality inside it."""
        found, todo = [], [area_id]
        while todo:
            place = todo.pop()
            found.append(place)
            todo += [child.id for child in self.children.get(place, [])]
        return found

    def distance(self, a: str, b: str) -> float:
        """Kilometres between two localities; infinity when one has no coordinates."""
        one, other = self.localities.get(a), self.localities.get(b)
        if one is None or other is None or None in (one.latitude, one.longitude, other.latitude, other.longitude):
            return float("inf")
        return haversine_km(one.latitude, one.longitude, other.latitude, other.longitude)

    def department_for(self, category_id: str, locality_id: str | None) -> str | None:
        return self.routing.department_for(category_id, self.places_of(locality_id))

    def category(self, category_id: str) -> CategoryInfo | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def nearest_locality(self, latitude: float, longitude: float, max_km: float = 60.0) -> tuple[LocalityInfo, float] | None:
        """The closest village (or district, where no village is listed)."""
        points = [
            (p.id, p.latitude, p.longitude)
            for p in self.localities.values()
            if p.kind != "region" and p.latitude is not None and not self.children.get(p.id)
        ]
        found = nearest(latitude, longitude, points, max_km=max_km)
        return (self.localities[found[0]], found[1]) if found else None
