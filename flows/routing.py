"""Routing: which department handles a request, and how soon it is due.

Rules come from ``storage/seed/routing.json``: category (and optionally a
locality, covering everything under it) to department, first match wins;
service-level targets per category for the first response and resolution.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Rule:
    category: str  # a category id, or "*" for any
    department: str
    locality: str | None = None  # this locality and everything under it

    def matches(self, category: str, places: Iterable[str]) -> bool:
        return self.category in ("*", category) and (self.locality is None or self.locality in places)


@dataclass(frozen=True)
class Sla:
    first_response: timedelta
    resolution: timedelta


@dataclass(frozen=True)
class Deadline:
    """Where a request stands against its targets at ``now``."""

    kind: str  # first_response | resolution
    due: datetime
    state: str  # ok | warning | breached


class Routing:
    def __init__(self, rules: list[Rule], sla: dict[str, Sla], warn_before_breach: float = 0.8):
        self.rules = rules
        self.sla_by_category = sla
        self.warn_before_breach = warn_before_breach

    @classmethod
    def from_seed(cls, seed: dict) -> Routing:
        rules = [Rule(r["category"], r["department"], r.get("locality")) for r in seed.get("rules", [])]
        sla = {
            category: Sla(timedelta(hours=v["first_response"]), timedelta(hours=v["resolution"]))
            for category, v in seed.get("sla_hours", {}).items()
        }
        return cls(rules, sla, seed.get("warn_before_breach", 0.8))

    def department_for(self, category: str, places: Iterable[str] = ()) -> str | None:
        """``places``: the request's locality and its ancestors."""
        places = set(places)
        return next((r.department for r in self.rules if r.matches(category, places)), None)

    def sla(self, category: str) -> Sla:
        default = Sla(timedelta(hours=24), timedelta(hours=240))
        return self.sla_by_category.get(category) or self.sla_by_category.get("default") or default

    def deadline(self, category: str, created_at: datetime, first_response_at: datetime | None, now: datetime) -> Deadline | None:
        """The next target this request is measured against, and its state;
        None when both are met or no longer apply."""
        sla = self.sla(category)
        target, kind = (sla.first_response, "first_response") if first_response_at is None else (sla.resolution, "resolution")
        due = created_at + target
        warn_at = created_at + target * self.warn_before_breach
        state = "breached" if now >= due else "warning" if now >= warn_at else "ok"
        return Deadline(kind, due, state)
