"""The queue's clockwork, run by the scheduler every few minutes:

- a digest of new requests to each department's staff (one message, not one
  per request), with round-robin assignment where the department uses it;
- service-level alerts to supervisors before and at the breach;
- closing requests whose citizen never answered "was it resolved?".

Each job takes the store and the time, so tests drive them with any clock.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, select

from flows import lifecycle
from flows.i18n import text
from storage import casework
from storage.db import session_scope
from storage.models import Caseworker, Citizen, Department, Request, RequestEvent

log = logging.getLogger(__name__)
UNCONFIRMED_AFTER = timedelta(days=3)
DIGEST_LINES = 20


def send_digests(database, catalog, now: datetime) -> int:
    """Tell each department of its new requests; returns how many were told."""
    told = 0
    with session_scope(database) as session:
        waiting = session.exec(select(Request).where(Request.digested_at.is_(None), Request.status == "new").order_by(Request.id)).all()
        by_department: dict[str | None, list[Request]] = defaultdict(list)
        for request in waiting:
            by_department[request.department_id].append(request)
        for department_id, requests in by_department.items():
            department = session.get(Department, department_id) if department_id else None
            people = casework.staff_of(session, department_id) if department_id else []
            people = people or casework.staff_of(session, None, roles=("admin",))
            if not people:
                continue  # nobody to tell yet: they stay waiting for the next round
            if department is not None and department.assignment == "round_robin":
                _assign_in_turn(session, requests, people, now)
            for person in people:
                body = _digest(person, department, requests, catalog)
                if person.address:
                    casework.queue(session, person.address, body)
            for request in requests:
                request.digested_at = now
                session.add(request)
            told += len(requests)
    return told


def _assign_in_turn(session: Session, requests: list[Request], people: list[Caseworker], now: datetime) -> None:
    """Each new request to whoever was given one longest ago."""
    workers = [p for p in people if p.role in ("caseworker", "supervisor")] or people
    for request in requests:
        if request.assignee_id is not None:
            continue
        person = min(workers, key=lambda p: (p.last_assigned_at or datetime.min.replace(tzinfo=now.tzinfo), p.id))
        request.assignee_id, person.last_assigned_at = person.id, now
        casework.record(session, request, "system", "assign", f"{person.name} (round robin)", now=now)
        session.add(person)


def _digest(person: Caseworker, department: Department | None, requests: list[Request], catalog) -> str:
    name = department.name if department else "—"
    lines = [text(person.language, "staff_digest", count=len(requests), department=name)]
    for request in requests[:DIGEST_LINES]:
        category = catalog.category(request.category_id)
        words = request.text if len(request.text) <= 80 else request.text[:80] + "…"
        lines.append(f"{request.code} · {category.name(person.language) if category else request.category_id} · «{words}»")
    if len(requests) > DIGEST_LINES:
        lines.append(f"… +{len(requests) - DIGEST_LINES}")
    lines.append("/inbox")
    return "\n".join(lines)


def check_deadlines(database, catalog, now: datetime) -> int:
    """Alert before and at each breach, once each; returns how many alerts."""
    alerts = 0
    with session_scope(database) as session:
        open_requests = session.exec(select(Request).where(Request.status.in_(lifecycle.OPEN))).all()
        for request in open_requests:
            deadline = catalog.routing.deadline(request.category_id, request.created_at, request.first_response_at, now)
            if deadline is None or deadline.state == "ok":
                continue
            kind = "sla_breach" if deadline.state == "breached" else "sla_warning"
            if _already_alerted(session, request, kind, deadline.kind):
                continue
            casework.record(session, request, "system", kind, deadline.kind, now=now)
            for person in _supervisors_and_assignee(session, request):
                what = text(person.language, f"staff_sla_{deadline.kind}")
                body = text(person.language, f"staff_{kind}", code=request.code, kind=what, due=f"{deadline.due:%d.%m %H:%M}")
                if person.address:
                    casework.queue(session, person.address, body, request_id=request.id)
            alerts += 1
    return alerts


def _already_alerted(session: Session, request: Request, kind: str, deadline_kind: str) -> bool:
    statement = select(RequestEvent.id).where(RequestEvent.request_id == request.id, RequestEvent.kind == kind, RequestEvent.note == deadline_kind)
    return session.exec(statement).first() is not None


def _supervisors_and_assignee(session: Session, request: Request) -> list[Caseworker]:
    statement = select(Caseworker).where(
        Caseworker.active,
        or_(
            (Caseworker.role == "supervisor") & (Caseworker.department_id == request.department_id),
            Caseworker.id == request.assignee_id,
        ),
    )
    people = list(session.exec(statement))
    return people or casework.staff_of(session, None, roles=("admin",))


def close_unconfirmed(database, now: datetime, after: timedelta = UNCONFIRMED_AFTER) -> int:
    """Close as unconfirmed what has waited ``after`` for the citizen's answer."""
    closed = 0
    with session_scope(database) as session:
        stale = session.exec(select(Request).where(Request.status == "resolved", Request.resolved_at <= now - after)).all()
        for request in stale:
            casework.move(session, request, "closed", "system", "unconfirmed: no answer from the citizen", now=now)
            casework.release(session, request.address, "closure", request.code)
            citizen = session.get(Citizen, request.citizen_id)
            notice = text(citizen.language, "closed_unconfirmed", code=request.code)
            casework.queue(session, request.address, notice, citizen_id=citizen.id, request_id=request.id,
                           template="status", template_variables={"1": request.code, "2": notice})
            closed += 1
    return closed
