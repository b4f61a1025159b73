"""The figures a ministry asks for: how many requests, how fast they are
first answered and resolved against their targets, how many come back,
how satisfied people are — in all, and per category, department and
locality. ``onewindow report summary`` prints them; the same figures serve
any screen that shows them.

Targets are the categories' service levels (``storage/seed/routing.json``).
"Within target" counts the requests whose target has been met or missed:
answered in time, against answered plus still unanswered past the target
(a request still inside its target is neither yet).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.catalog import Catalog
from flows import lifecycle
from storage.models import Request, RequestEvent

GROUPS = ("category", "department", "locality")


@dataclass(frozen=True)
class Figures:
    requests: int
    open: int
    past_target: int  # open and past their next target now
    first_response_hours: float | None  # median
    first_response_on_time: float | None  # share, 0-1
    resolution_hours: float | None  # median, from filing to resolved (or closed)
    resolution_on_time: float | None
    reopen_rate: float | None  # reopened at least once, of those ever finished
    csat: float | None  # share of ratings 4 or 5
    rating: float | None  # mean, 1-5
    rated: int


@dataclass(frozen=True)
class Summary:
    start: datetime
    end: datetime
    total: Figures
    by: dict[str, dict[str, Figures]]  # group -> key (a category, department or locality id; "" for none) -> figures


def summary(conn: Connection, catalog: Catalog, start: datetime, end: datetime, now: datetime,
            departments: Iterable[str] | None = None) -> Summary:
    """Requests filed from ``start`` up to (not including) ``end``;
    ``departments``: only theirs (a caseworker's view)."""
    table = Request.__table__
    chosen = select(table).where(table.c.kind == "request", table.c.created_at >= start, table.c.created_at < end)
    if departments is not None:
        chosen = chosen.where(table.c.department_id.in_(list(departments)))
    rows = conn.execute(chosen).all()
    reopened = set()
    ids = [row.id for row in rows]
    for part in range(0, len(ids), 1000):  # an IN list the stores take
        events = RequestEvent.__table__
        reopened |= set(conn.execute(
            select(events.c.request_id).where(events.c.to_status == "reopened", events.c.request_id.in_(ids[part:part + 1000]))
        ).scalars())
    grouped: dict[str, dict[str, list]] = {group: {} for group in GROUPS}
    for row in rows:
        grouped["category"].setdefault(row.category_id, []).append(row)
        grouped["department"].setdefault(row.department_id or "", []).append(row)
        grouped["locality"].setdefault(area_of(catalog, row.locality_id), []).append(row)
    by = {group: {key: measure(some, reopened, catalog, now) for key, some in sorted(keys.items())} for group, keys in grouped.items()}
    return Summary(start, end, measure(rows, reopened, catalog, now), by)


def area_of(catalog: Catalog, locality_id: str | None) -> str:
    """The district a request comes from (a village's figures are too few
    to read), or the place itself where it has no district above it."""
    places = catalog.places_of(locality_id)
    return next((p for p in places if catalog.localities[p].kind == "district"), places[0] if places else "")


def measure(rows: list, reopened: set[int], catalog: Catalog, now: datetime) -> Figures:
    first, first_met, first_due = [], 0, 0
    solved, solved_met, solved_due = [], 0, 0
    past_target = 0
    for row in rows:
        if row.status == "duplicate":
            continue
        sla = catalog.routing.sla(row.category_id)
        if row.first_response_at is not None:
            took = row.first_response_at - row.created_at
            first.append(took.total_seconds() / 3600)
            first_due += 1
            first_met += took <= sla.first_response
        elif now - row.created_at > sla.first_response:
            first_due += 1
        finished_at = row.resolved_at or row.closed_at
        if finished_at is not None:
            took = finished_at - row.created_at
            solved.append(took.total_seconds() / 3600)
            solved_due += 1
            solved_met += took <= sla.resolution
        elif now - row.created_at > sla.resolution:
            solved_due += 1
        if row.status in lifecycle.OPEN:
            deadline = catalog.routing.deadline(row.category_id, row.created_at, row.first_response_at, now)
            past_target += deadline is not None and deadline.state == "breached"
    # Ever finished: finished now, or reopened since (a reopened request may be open again).
    finished = [row for row in rows if row.status != "duplicate" and (row.resolved_at or row.closed_at or row.id in reopened)]
    ratings = [row.rating for row in rows if row.rating]
    return Figures(
        requests=len(rows),
        open=sum(row.status in lifecycle.OPEN for row in rows),
        past_target=past_target,
        first_response_hours=statistics.median(first) if first else None,
        first_response_on_time=first_met / first_due if first_due else None,
        resolution_hours=statistics.median(solved) if solved else None,
        resolution_on_time=solved_met / solved_due if solved_due else None,
        reopen_rate=sum(row.id in reopened for row in finished) / len(finished) if finished else None,
        csat=sum(r >= 4 for r in ratings) / len(ratings) if ratings else None,
        rating=statistics.mean(ratings) if ratings else None,
        rated=len(ratings),
    )
