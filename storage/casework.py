"""The store's side of working a request: moving it between statuses,
recording what was done, queueing messages, and steering a citizen's
conversation to a question that needs their answer.

Every change writes a :class:`~storage.models.RequestEvent` — who, when,
from which status to which, and a note — so nothing changes off the record.
Which moves are allowed and what citizens are told is decided in
:mod:`flows.lifecycle`; these functions only write.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from storage.db import insert_new
from storage.models import Caseworker, Citizen, Conversation, Message, Request, RequestEvent, utcnow

STAMPS = {"resolved": "resolved_at", "closed": "closed_at", "duplicate": "closed_at"}


def move(session: Session, request: Request, to: str, actor: str, note: str | None = None, *, kind: str = "status", now: datetime | None = None) -> RequestEvent:
    """Change the request's status and record the change."""
    now = now or utcnow()
    event = RequestEvent(request_id=request.id, at=now, actor=actor, kind=kind, from_status=request.status, to_status=to, note=note)
    request.status = to
    request.updated_at = now
    if stamp := STAMPS.get(to):
        setattr(request, stamp, now)
    if to == "reopened":
        request.resolved_at = request.closed_at = None
    session.add(request)
    session.add(event)
    return event


def record(session: Session, request: Request, actor: str, kind: str, note: str | None = None, *, now: datetime | None = None) -> RequestEvent:
    """Record an action that does not change the status (a note, a reply, an assignment)."""
    now = now or utcnow()
    event = RequestEvent(request_id=request.id, at=now, actor=actor, kind=kind, from_status=request.status, to_status=request.status, note=note)
    request.updated_at = now
    session.add(request)
    session.add(event)
    return event


def responded(request: Request, now: datetime | None = None) -> None:
    """The first time staff answer the citizen: the response-time clock stops."""
    if request.first_response_at is None:
        request.first_response_at = now or utcnow()


def queue(session: Session, address: str, text: str, *, choices: list[tuple[str, str]] = (), menu_id: str | None = None,
          citizen_id: int | None = None, request_id: int | None = None, template: str | None = None,
          template_variables: dict | None = None) -> Message | None:
    """Put a message in the outbox (nothing, for a request anonymized: it has no address)."""
    if not address:
        return None
    message = Message(**_outbound(address, text, choices, menu_id, citizen_id, request_id, template, template_variables))
    session.add(message)
    return message


def queue_once(session: Session, key: str, address: str, text: str, *, choices: list[tuple[str, str]] = (),
               menu_id: str | None = None, citizen_id: int | None = None, request_id: int | None = None,
               template: str | None = None, template_variables: dict | None = None, not_before: datetime | None = None) -> bool:
    """Put a message in the outbox under ``key`` unless one was queued under
    it before (by this process before a restart, or by another): True if
    queued now. The unique key makes "once" hold whoever runs the job.
    ``not_before``: the outbox holds it until then (quiet hours)."""
    if not address:  # an anonymized request: nobody to tell
        return False
    values = _outbound(address, text, choices, menu_id, citizen_id, request_id, template, template_variables)
    values.update(dedupe_key=key, created_at=utcnow(), attempts=0, next_attempt_at=not_before)
    return insert_new(session, Message, values, "dedupe_key") == 1


def _outbound(address, text, choices, menu_id, citizen_id, request_id, template, template_variables) -> dict:
    payload = {"choices": [list(c) for c in choices], "menu_id": menu_id, "template": template, "template_variables": template_variables}
    return dict(
        direction="out", channel=address.split(":", 1)[0], address=address, citizen_id=citizen_id, request_id=request_id,
        text=text, payload={k: v for k, v in payload.items() if v}, status="queued",
    )


def interrupt(session: Session, address: str, flow: str, step: str, data: dict, choices: list[tuple[str, str]] = ()) -> int:
    """Put the conversation at ``address`` on ``flow``/``step`` (a question
    the citizen must answer), keeping where it was so it can resume after.
    Returns the new menu version, for the question's buttons; ``choices``
    are remembered so that a typed "1" selects on channels without buttons."""
    if not address:  # an anonymized request: nobody to ask
        return 0
    conversation = session.get(Conversation, address, with_for_update=True)
    if conversation is None:
        conversation = Conversation(address=address)
    resume = [conversation.flow, conversation.step, {k: v for k, v in (conversation.data or {}).items() if k != "choices"}]
    if conversation.flow == flow:  # answering one question before another: resume where the first left off
        resume = (conversation.data or {}).get("resume", ["", "", {}])
    conversation.flow, conversation.step = flow, step
    conversation.version = (conversation.version or 0) + 1
    conversation.revision = (conversation.revision or 0) + 1
    conversation.data = {**data, "resume": resume, **({"choices": [list(c) for c in choices]} if choices else {})}
    conversation.updated_at = utcnow()
    session.add(conversation)
    return conversation.version


def release(session: Session, address: str, flow: str, code: str) -> None:
    """Take back a question nobody needs answered any more: the conversation
    returns to where it was before ``flow`` interrupted it for ``code``."""
    conversation = session.get(Conversation, address, with_for_update=True)
    if conversation is None or conversation.flow != flow or (conversation.data or {}).get("code") != code:
        return
    resume_flow, resume_step, resume_data = (conversation.data or {}).get("resume") or ["", "", {}]
    conversation.flow, conversation.step, conversation.data = resume_flow, resume_step, resume_data or {}
    conversation.version += 1
    conversation.revision += 1
    conversation.updated_at = utcnow()
    session.add(conversation)


def staff_of(session: Session, department_id: str | None, roles: tuple[str, ...] = ("caseworker", "supervisor", "admin")) -> list[Caseworker]:
    statement = select(Caseworker).where(Caseworker.active, Caseworker.role.in_(roles))
    if department_id is not None:
        statement = statement.where(Caseworker.department_id == department_id)
    return list(session.exec(statement.order_by(Caseworker.id)))
