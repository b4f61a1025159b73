"""How requests look to staff: a line in a list, a card with buttons, a history."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import select

from flows.duplicates import Candidate, similar
from flows.lifecycle import FINISHED, OPEN, can_move
from flows.messages import Choice
from flows.masking import mask
from storage import groups
from storage.models import Caseworker, Citizen, Department, Identity, Message, Request, RequestEvent, utcnow

LABELS = {
    "take": "staff_button_take", "progress": "staff_button_progress",
    "close": "staff_button_close", "reopen": "staff_button_reopen",
}


def button(action: str, code: str) -> str:
    """Staff button data: ``s|take|KX74MP`` (well inside Telegram's 64 bytes)."""
    return f"s|{action}|{code.replace('-', '')}"


def age(since: datetime, now: datetime | None = None) -> str:
    minutes = int(((now or utcnow()) - since).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h"
    return f"{minutes // 1440}d"


def line(desk, request: Request) -> str:
    category = desk.catalog.category(request.category_id)
    place = desk.catalog.localities.get(request.locality_id) if request.locality_id else None
    assignee = desk.session.get(Caseworker, request.assignee_id) if request.assignee_id else None
    parts = [
        request.code,
        category.name(desk.language) if category else request.category_id,
        request.status,
        place.name(desk.language) if place else "—",
        age(request.created_at),
        f"@{assignee.name}" if assignee else desk.t("staff_unassigned"),
    ]
    if request.group_id is None and (reporters := groups.reporters(desk.session, request)) > 1:
        parts.insert(1, f"👥 {reporters}")  # "no water in Bekat: 30 reporters" is one line
    return " · ".join(parts)


def _left_contacts(desk, citizen: Citizen) -> list[str]:
    """The phone and e-mail a citizen left where there is no chat (a request
    filed through the Open311 API). Erasing a citizen deletes these."""
    if citizen is None:
        return []
    found = select(Identity.address).where(Identity.citizen_id == citizen.id, Identity.channel.in_(("phone", "email")))
    return sorted(desk.session.exec(found))


def card(desk, request: Request) -> tuple[str, list[Choice]]:
    """The request, the citizen's words and files, the conversation and its history."""
    citizen = desk.citizen(request)
    # An anonymized request keeps no contact, whatever its citizen left for other requests.
    contacts = [request.address] if request.address else [] if request.anonymized_at else _left_contacts(desk, citizen)
    contact = ", ".join(c if desk.at_least("supervisor") else mask(c) for c in contacts) or mask(None)
    lines = [line(desk, request), f"{citizen.display_name or '—'} · {contact} · {citizen.language or '?'}"]
    if request.department_id:
        lines.append(desk.t("staff_department", department=department_name(desk, request.department_id)))
    if request.text:
        lines.append(f"«{request.text}»")
    for attachment in request.attachments or []:
        lines.append(f"📎 {attachment['kind']}: {attachment['ref']}")
    if request.latitude is not None:
        lines.append(f"📍 {request.latitude:.5f}, {request.longitude:.5f}")
    if request.resolution:
        lines.append(desk.t("staff_resolution", resolution=request.resolution))
    if request.group_id is not None:
        first = desk.session.get(Request, request.group_id)
        lines.append(desk.t("staff_group_member", code=first.code if first else "?"))
    elif others := groups.members(desk.session, request, open_only=False):
        lines.append(desk.t("staff_group_reporters", count=1 + len(others), codes=", ".join(r.code for r in others[:10])))
    if likely := duplicates_of(desk, request):
        lines.append(desk.t("staff_possible_duplicates", codes=", ".join(f"{code} ({score:.0f}%)" for code, score in likely)))
    if request.rating:
        lines.append(f"⭐ {request.rating}/5" + (f" «{request.rating_comment}»" if request.rating_comment else ""))
    lines += ["", desk.t("staff_messages")] + messages(desk, request) + ["", desk.t("staff_history")] + history(desk, request)
    choices = [Choice(button(action, request.code), desk.t(LABELS[action])) for action in actions(desk, request)]
    return "\n".join(lines), choices


def actions(desk, request: Request) -> list[str]:
    """What this person can usefully do with this request now: no "Take" on
    a request they hold, no "Resolve" on one that is resolved, nothing that
    would only be refused."""
    mine = request.assignee_id == desk.me.id
    may_change = desk.at_least("supervisor") or request.assignee_id in (None, desk.me.id)
    offered = []
    if request.status not in FINISHED and not mine and (request.assignee_id is None or desk.at_least("supervisor")):
        offered.append("take")
    if may_change and request.status in OPEN - {"in_progress"}:
        offered.append("progress")
    if may_change and request.status not in FINISHED and can_move(request.status, "resolved"):
        offered.append("close")
    if may_change and request.status in FINISHED | {"resolved"}:
        offered.append("reopen")
    return offered


def department_name(desk, department_id: str) -> str:
    """A department as staff read it: its name in their language."""
    department = desk.session.get(Department, department_id)
    if department is None:
        return department_id
    return (department.names or {}).get(desk.language) or department.name


def duplicates_of(desk, request: Request) -> list[tuple[str, float]]:
    """Open requests of the same category from the last month most like this
    one, outside its own group (the card lists that already)."""
    if request.status not in OPEN:
        return []
    since = request.created_at - timedelta(days=30)
    group = request.group_id or request.id
    statement = select(Request).where(
        Request.category_id == request.category_id, Request.status.in_(OPEN), Request.created_at >= since,
        Request.id != group, or_(Request.group_id.is_(None), Request.group_id != group),  # nor the request itself
    ).order_by(Request.id.desc()).limit(200)
    others = [_candidate(r) for r in desk.session.exec(statement) if desk.sees(r)]
    return similar(_candidate(request), others)


def _candidate(request: Request) -> Candidate:
    return Candidate(request.code, request.text, request.category_id, request.locality_id, request.citizen_id)


def messages(desk, request: Request, limit: int = 20) -> list[str]:
    """The conversation with the citizen about this request; what staff were
    told about it (assignments, answers passed on) is in the history instead."""
    statement = (select(Message).where(Message.request_id == request.id, Message.citizen_id == request.citizen_id)
                 .order_by(Message.id.desc()).limit(limit))
    rows = list(desk.session.exec(statement))[::-1]
    return [f"{m.created_at:%d.%m %H:%M} {'→' if m.direction == 'out' else '←'} {_said(m)}" for m in rows]


def _said(message: Message) -> str:
    """The words, or what was done instead: a pressed button, a shared place, a file."""
    if message.text:
        return message.text[:300]
    event = (message.payload or {}).get("event")
    done = event.get("type") if isinstance(event, dict) else None
    return f"[{done}]" if done else "[…]"


def history(desk, request: Request) -> list[str]:
    events = desk.session.exec(select(RequestEvent).where(RequestEvent.request_id == request.id).order_by(RequestEvent.at, RequestEvent.id))
    return [event_line(desk, e) for e in events]


# Event kinds staff read in words (``staff_event_<kind>``); others as stored.
EVENT_KINDS = {"created", "status", "assign", "reply", "note", "merge", "rating", "citizen_answer", "sla_warning", "sla_breach"}


def event_line(desk, event: RequestEvent) -> str:
    """``03.12.2026 09:14 Karim (caseworker): status new → in_progress``:
    who by name and role, what in words, a move only when the status changed."""
    what = desk.t(f"staff_event_{event.kind}") if event.kind in EVENT_KINDS else event.kind
    parts = [f"{event.at:%d.%m.%Y %H:%M} {actor_name(desk, event.actor)}: {what}"]
    if event.from_status and event.to_status and event.from_status != event.to_status:
        parts.append(f"{event.from_status} → {event.to_status}")
    line = " ".join(parts)
    return f"{line}: {event.note}" if event.note else line


def actor_name(desk, actor: str) -> str:
    kind, _, number = actor.partition(":")
    if kind == "caseworker" and number.isdigit() and (person := desk.session.get(Caseworker, int(number))):
        return desk.t("staff_actor_staff", name=person.name, role=person.role)
    if kind == "citizen" and number.isdigit():
        citizen = desk.session.get(Citizen, int(number))
        return desk.t("staff_actor_citizen", name=(citizen.display_name if citizen else None) or f"#{number}")
    if kind == "system":
        return desk.t("staff_actor_system")
    return actor
