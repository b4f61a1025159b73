"""Requests that are one case, at intake and at the desk.

Neighbours reporting one problem of one place are linked into a group:
each report points at the group's first (``Request.group_id``), which is
the case staff work; a reply or a status change on it reaches every
reporter. The rules are :mod:`flows.duplicates`, the same as for imports.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from flows import lifecycle
from flows.duplicates import NEIGHBOURS, SAME_PERSON, Report, Rules, kept_apart, likeness, same_case
from storage import casework
from storage.models import Request, utcnow


CANDIDATES = 300  # the latest open reports of a place and category a new one is compared with


def report(request) -> Report:
    """``request``: a Request, or a row with the same columns."""
    return Report(request.text, request.category_id, request.locality_id, None, None, request.created_at, request.citizen_id)


def link_at_intake(session: Session, request_id: int, rules: Rules) -> Request | None:
    """Link a new request to the group of the most alike open report of one
    problem by another citizen of its place; returns the group's first.

    Only the columns the rules read, of the latest :data:`CANDIDATES`
    open reports of the place and category: a request is handled while the
    citizen waits, and a district's old reports of the problem are already
    in its group, which the latest ones lead to."""
    request = session.get(Request, request_id)
    if request is None or not request.locality_id or not request.text:
        return None
    since = utcnow() - timedelta(days=rules.neighbour_days)
    candidates = session.exec(select(
        Request.id, Request.text, Request.category_id, Request.locality_id, Request.created_at, Request.citizen_id, Request.group_id,
    ).where(
        Request.id != request.id, Request.citizen_id != request.citizen_id, Request.locality_id == request.locality_id,
        Request.category_id == request.category_id, Request.status.in_(lifecycle.OPEN), Request.created_at >= since,
    ).order_by(Request.id.desc()).limit(CANDIDATES)).all()
    mine = report(request)
    matches = [c for c, theirs in ((c, report(c)) for c in candidates)
               if same_case(mine, theirs, rules) == NEIGHBOURS and not kept_apart(mine, theirs, rules)]
    if not matches:
        return None
    best_row = max(matches, key=lambda c: (likeness(request.text, c.text), -c.id))
    best = session.get(Request, best_row.id)
    first = session.get(Request, best.group_id) if best.group_id else best
    if first is None or first.status not in lifecycle.OPEN:
        first = best
    request.group_id = first.id
    if first.department_id and first.department_id != request.department_id:
        request.department_id = first.department_id  # one case, one department
    session.add(request)
    casework.record(session, request, "system", "grouped", f"with {first.code}")
    casework.record(session, first, "system", "grouped", f"{request.code} reports the same problem")
    session.flush()
    return first


def members(session: Session, first: Request, *, open_only: bool = True) -> list[Request]:
    """The other reports of the group whose first is ``first``."""
    statement = select(Request).where(Request.group_id == first.id).order_by(Request.id)
    if open_only:
        statement = statement.where(Request.status.in_(lifecycle.OPEN | {"resolved"}))
    return list(session.exec(statement))


def reporters(session: Session, first: Request) -> int:
    """How many reported the group's problem (the first included)."""
    return 1 + len(members(session, first, open_only=False))


def unlink(session: Session, request: Request, actor: str) -> Request | None:
    """Take a report out of its group; returns the group's first (None: it was in none)."""
    if request.group_id is None:
        return None
    first = session.get(Request, request.group_id)
    request.group_id = None
    session.add(request)
    casework.record(session, request, actor, "ungrouped", f"from {first.code}" if first else None)
    if first is not None:
        casework.record(session, first, actor, "ungrouped", f"{request.code} is a case of its own")
    return first


def similar_mine(session: Session, citizen_id: int, text: str, category_id: str, rules: Rules) -> Request | None:
    """The citizen's own open request for the same need, filed in the last
    ``rules.mine_days`` days ("you already asked this")."""
    since = utcnow() - timedelta(days=rules.mine_days)
    mine = session.exec(select(Request).where(
        Request.citizen_id == citizen_id, Request.status.in_(lifecycle.OPEN), Request.created_at >= since,
    ).order_by(Request.id.desc())).all()
    new = Report(text, category_id, None, None, None, utcnow(), citizen_id)
    alike = [r for r in mine if same_case(new, report(r), rules) == SAME_PERSON]
    return max(alike, key=lambda r: likeness(text, r.text)) if alike else None
