"""The catalogue held in memory: categories, localities and the classifier
built from them. Read once from the store at start (they change rarely),
so answering a message costs no catalogue queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from flows.classifier import Classifier
from flows.keywords import CategoryTerms, KeywordClassifier
from flows.geo import nearest
from flows.routing import Routing
from flows.view import CategoryInfo, LocalityInfo
from storage import queries
from storage.db import session_scope
from storage.seed import read_seed


@dataclass
class Catalog:
    categories: list[CategoryInfo]
    localities: dict[str, LocalityInfo]
    children: dict[str | None, list[LocalityInfo]]
    classifier: Classifier
    routing: Routing

    @classmethod
    def from_store(cls, engine: Engine) -> Catalog:
        with session_scope(engine) as session:
            category_rows = queries.categories(session)
            locality_rows = queries.localities(session)
        categories = [CategoryInfo(c.id, c.names, c.descriptions) for c in category_rows]
        terms = [CategoryTerms(c.id, tuple(word for words in c.keywords.values() for word in words)) for c in category_rows]
        localities = {
            row.id: LocalityInfo(row.id, row.kind, row.parent_id, row.names, row.latitude, row.longitude)
            for row in locality_rows
        }
        children: dict[str | None, list[LocalityInfo]] = {}
        for place in localities.values():
            children.setdefault(place.parent_id, []).append(place)
        return cls(categories, localities, children, Classifier(KeywordClassifier(terms)), Routing.from_seed(read_seed("routing.json")))

    def places_of(self, locality_id: str | None) -> list[str]:
        """A locality and every locality above it, nearest first."""
        places = []
        while locality_id and locality_id in self.localities and locality_id not in places:
            places.append(locality_id)
            locality_id = self.localities[locality_id].parent_id
        return places

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
