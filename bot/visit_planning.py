"""Planning visits, from the staff desk (``/visit``) and from a route plan
(``onewindow visits import plan.csv``): reading places, days and services
as people write them, and writing the visit with its notices.

A route plan row::

    locality,date,start,end,services,limit
    uz-syr-oqoltin-d-sardoba,2026-12-08,09:00,13:00,uz-passport-id;uz-birth-cert,20

``limit`` caps the places per service (empty: no cap; ``svc=5;svc2=10``
names each). Times are the locality's local time. A re-import of the same
plan changes nothing: a visit is known by its place and start.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from rapidfuzz import fuzz, process
from sqlmodel import Session, select

from flows.textnorm import fold
from flows.view import LocalityInfo
from notifications import visits as notices
from storage.models import Visit, utcnow

_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")
COLUMNS = ("locality", "date", "start", "end", "services")


class PlanError(ValueError):
    """A place, a day, a time or a service that cannot be read; ``key`` is
    the staff text that explains it, ``value`` what was written."""

    def __init__(self, key: str, value: str):
        super().__init__(f"{key}: {value}")
        self.key, self.value = key, value


def find_place(catalog, word: str) -> LocalityInfo | None:
    """A locality by id, or by its name in any language (typos allowed);
    villages before districts of the same name."""
    word = word.strip()
    if word in catalog.localities:
        return catalog.localities[word]
    labels, places = [], []
    for place in sorted(catalog.localities.values(), key=lambda p: p.kind != "village"):
        for name in set(place.names.values()):
            labels.append(fold(name))
            places.append(place)
    found = process.extractOne(fold(word), labels, scorer=fuzz.WRatio, score_cutoff=88)
    return places[found[2]] if found else None


def read_time(text: str) -> time:
    match = _TIME.match(text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(text)
    return time(int(match.group(1)), int(match.group(2)))


def window(place: LocalityInfo, day: str, start: str, end: str) -> tuple[datetime, datetime]:
    """The visit's start and end in UTC, from the local day and times; in the future, end after start."""
    written = f"{day} {start}-{end}"
    try:
        local_day = date.fromisoformat(day.strip())
        starts = datetime.combine(local_day, read_time(start), tzinfo=place.zone)
        ends = datetime.combine(local_day, read_time(end), tzinfo=place.zone)
    except ValueError:
        raise PlanError("staff_visit_bad_time", written) from None
    if ends <= starts or ends <= utcnow():
        raise PlanError("staff_visit_bad_time", written)
    return starts.astimezone(utcnow().tzinfo), ends.astimezone(utcnow().tzinfo)


def services(catalog, words: str) -> list[str]:
    """Service ids from "a,b" or "a;b"; each must be one the mobile unit does."""
    catalogue = catalog.services()
    found = []
    for sid in (w.strip() for w in re.split(r"[,;\s]+", words) if w.strip()):
        service = catalogue.get(sid)
        if service is None or not service.mobile_unit:
            raise PlanError("staff_visit_bad_service", sid)
        if sid not in found:
            found.append(sid)
    if not found:
        raise PlanError("staff_visit_bad_service", words)
    return found


def limits(text: str, service_ids: list[str]) -> dict[str, int]:
    """"20" for every service, or "svc=5;svc2=10"; empty for no cap."""
    text = (text or "").strip()
    if not text:
        return {}
    if text.isdigit():
        return {sid: int(text) for sid in service_ids}
    caps = {}
    for part in re.split(r"[;,\s]+", text):
        sid, _, number = part.partition("=")
        if sid not in service_ids or not number.isdigit():
            raise PlanError("staff_visit_bad_limit", part)
        caps[sid] = int(number)
    return caps


def add(session: Session, catalog, place: LocalityInfo, starts: datetime, ends: datetime, service_ids: list[str],
        caps: dict[str, int], actor: str) -> tuple[Visit, str, int]:
    """Plan a visit and tell the locality's subscribers. Returns the visit,
    ``added``, ``unchanged`` (the same visit was planned before) or
    ``updated`` (same place and start, other services, end or caps), and
    how many people were told."""
    visit = session.exec(select(Visit).where(Visit.locality_id == place.id, Visit.starts_at == starts)).first()
    if visit is not None and visit.status == "planned":
        if (visit.ends_at, list(visit.services), dict(visit.limits)) == (ends, service_ids, caps):
            return visit, "unchanged", 0
        visit.ends_at, visit.services, visit.limits, visit.updated_at = ends, service_ids, caps, utcnow()
        session.add(visit)
        return visit, "updated", 0
    if visit is None:
        visit = Visit(locality_id=place.id, starts_at=starts, ends_at=ends, services=service_ids, limits=caps, created_by=actor)
    else:  # planned again after a cancellation
        visit.status, visit.ends_at, visit.services, visit.limits, visit.updated_at = "planned", ends, service_ids, caps, utcnow()
    session.add(visit)
    session.flush()
    return visit, "added", notices.tell(session, catalog, visit, "new")


def move(session: Session, catalog, visit: Visit, starts: datetime, ends: datetime) -> int:
    visit.starts_at, visit.ends_at, visit.updated_at = starts, ends, utcnow()
    session.add(visit)
    session.flush()
    return notices.tell(session, catalog, visit, "moved")


def cancel(session: Session, catalog, visit: Visit, reason: str | None) -> int:
    visit.status, visit.note, visit.updated_at = "cancelled", reason or None, utcnow()
    session.add(visit)
    session.flush()
    return notices.tell(session, catalog, visit, "cancelled", reason)


# -- a route plan -------------------------------------------------------------

@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, what is wrong)


def import_plan(session: Session, catalog, source: str, actor: str = "import") -> ImportReport:
    """Plan every good row of a CSV route plan; bad rows are reported by line and skipped."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(source.lstrip("\ufeff")))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        report.errors.append((1, f"missing columns: {', '.join(missing)} (expected {','.join(COLUMNS)},limit)"))
        return report
    for row in reader:
        line = reader.line_num
        try:
            place = find_place(catalog, row.get("locality") or "")
            if place is None:
                raise PlanError("staff_visit_bad_place", row.get("locality") or "")
            starts, ends = window(place, row.get("date") or "", row.get("start") or "", row.get("end") or "")
            service_ids = services(catalog, row.get("services") or "")
            caps = limits(row.get("limit") or "", service_ids)
        except PlanError as error:
            report.errors.append((line, f"{_WHAT[error.key]}: {error.value!r}"))
            continue
        savepoint = session.begin_nested()
        _, outcome, _told = add(session, catalog, place, starts, ends, service_ids, caps, actor)
        savepoint.commit()
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


_WHAT = {
    "staff_visit_bad_place": "unknown place",
    "staff_visit_bad_time": "not a date and time window in the future (YYYY-MM-DD, HH:MM, HH:MM)",
    "staff_visit_bad_service": "unknown service, or not done by the mobile unit",
    "staff_visit_bad_limit": "limit is a number, or service=number;…",
}
