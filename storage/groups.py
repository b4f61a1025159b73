"""Requests that are one case, at intake and at the desk.

Neighbours reporting one problem of one place are linked into a group:
each report points at the group's first (``Request.group_id``), which is
the case staff work; a reply or a status change on it reaches every
reporter. The rules are :mod:`flows.duplicates`, the same as for imports.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, update
from sqlalchemy.engine import Connection, Row
from sqlmodel import Session, select

from flows import lifecycle
from flows.duplicates import NEIGHBOURS, SAME_PERSON, Report, Rules, kept_apart, likeness, same_case
from storage import casework
from storage.models import Request, RequestEvent, utcnow


CANDIDATES = 300  # the latest open reports of a place and category a new one is compared with

_R = Request.__table__
_E = RequestEvent.__table__
_COLUMNS = (_R.c.id, _R.c.code, _R.c.text, _R.c.category_id, _R.c.locality_id, _R.c.created_at, _R.c.citizen_id,
            _R.c.group_id, _R.c.status, _R.c.department_id)
_CASE = select(*_COLUMNS).where(_R.c.id == bindparam("id"))
_CANDIDATES = (
    select(*_COLUMNS)
    .where(
        _R.c.id < bindparam("id"), _R.c.citizen_id != bindparam("citizen_id"), _R.c.locality_id == bindparam("locality_id"),
        _R.c.category_id == bindparam("category_id"), _R.c.status.in_(sorted(lifecycle.OPEN)), _R.c.created_at >= bindparam("since"),
    )
    .order_by(_R.c.id.desc())
    .limit(CANDIDATES)
)
_MINE = (
    select(*_COLUMNS, _R.c.updated_at)
    .where(_R.c.citizen_id == bindparam("citizen_id"), _R.c.status.in_(sorted(lifecycle.OPEN)), _R.c.created_at >= bindparam("since"))
    .order_by(_R.c.id.desc())
)
_GROUP = update(_R).where(_R.c.id == bindparam("key")).values(
    group_id=bindparam("group_id"), department_id=bindparam("department_id"), updated_at=bindparam("updated_at"))
_TOUCH = update(_R).where(_R.c.id == bindparam("key")).values(updated_at=bindparam("updated_at"))


def report(request) -> Report:
    """``request``: a Request, or a row with the same columns."""
    return Report(request.text, request.category_id, request.locality_id, None, None, request.created_at, request.citizen_id)


def link_at_intake(conn: Connection, request_id: int, rules: Rules) -> Row | None:
    """Link a new request to the group of the most alike open report of one
    problem by another citizen of its place, filed before it; returns the
    group's first. (Only earlier ones: requests filed together are linked
    after they are all stored, each to those before it, never in a circle.)

    Only the columns the rules read, of the latest :data:`CANDIDATES`
    open reports of the place and category: it runs for every request a
    citizen files, and a district's old reports of the problem are already
    in its group, which the latest ones lead to. Prebuilt statements rather
    than the ORM, for the same reason."""
    request = conn.execute(_CASE, {"id": request_id}).first()
    if request is None or not request.locality_id or not request.text:
        return None
    candidates = conn.execute(_CANDIDATES, {
        "id": request.id, "citizen_id": request.citizen_id, "locality_id": request.locality_id,
        "category_id": request.category_id, "since": utcnow() - timedelta(days=rules.neighbour_days),
    }).all()
    mine = report(request)
    matches = [c for c, theirs in ((c, report(c)) for c in candidates)
               if same_case(mine, theirs, rules) == NEIGHBOURS and not kept_apart(mine, theirs, rules)]
    if not matches:
        return None
    best = max(matches, key=lambda c: (likeness(request.text, c.text), -c.id))
    first = conn.execute(_CASE, {"id": best.group_id}).first() if best.group_id else best
    if first is None or first.status not in lifecycle.OPEN:
        first = best
    department_id = first.department_id or request.department_id  # one case, one department
    now = utcnow()
    conn.execute(_GROUP, {"key": request.id, "group_id": first.id, "department_id": department_id, "updated_at": now})
    conn.execute(_TOUCH, {"key": first.id, "updated_at": now})
    conn.execute(insert(_E), [
        _grouped(request, now, f"with {first.code}"),
        _grouped(first, now, f"{request.code} reports the same problem"),
    ])
    return first


def _grouped(request: Row, now: datetime, note: str) -> dict:
    """A "grouped" event on ``request``'s record (see :func:`storage.casework.record`)."""
    return {"request_id": request.id, "at": now, "actor": "system", "kind": "grouped",
            "from_status": request.status, "to_status": request.status, "note": note}


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


def similar_mine(conn: Connection, citizen_id: int, text: str, category_id: str, rules: Rules) -> Row | None:
    """The citizen's own open request for the same need, filed in the last
    ``rules.mine_days`` days ("you already asked this"): asked before every
    request is filed, so a prebuilt statement."""
    since = utcnow() - timedelta(days=rules.mine_days)
    mine = conn.execute(_MINE, {"citizen_id": citizen_id, "since": since}).all()
    new = Report(text, category_id, None, None, None, utcnow(), citizen_id)
    alike = [r for r in mine if same_case(new, report(r), rules) == SAME_PERSON]
    return max(alike, key=lambda r: likeness(text, r.text)) if alike else None
