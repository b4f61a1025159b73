"""What happens when a citizen answers about a request they already have:
confirming (or denying) that it was resolved, rating it, or answering a
caseworker's question. Each writes its event and tells the person in charge.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from flows import actions as act
from flows.i18n import text
from storage import casework
from storage.models import Caseworker, Request

log = logging.getLogger(__name__)


def apply(conn: Connection, citizen_id: int, action: act.Action) -> None:
    """Apply ``action`` inside the message's transaction (``conn``)."""
    session = Session(bind=conn)
    request = session.exec(select(Request).where(Request.code == action.code)).first()
    if request is None or request.citizen_id != citizen_id:
        log.warning("citizen %s answered about request %s, which is not theirs", citizen_id, action.code)
        return
    actor = f"citizen:{citizen_id}"
    match action:
        case act.ConfirmResolved(resolved=True, comment=comment) if request.status == "resolved":
            casework.move(session, request, "closed", actor, _with_words("confirmed resolved by the citizen", comment))
            if comment:
                request.rating_comment = comment
        case act.ConfirmResolved(resolved=False, comment=comment) if request.status in ("resolved", "closed"):
            casework.move(session, request, "reopened", actor, _with_words("the citizen says it is not resolved", comment))
            _alert(session, request, "staff_alert_reopened", words=comment)
        case act.RateRequest(rating=rating, comment=comment):
            if rating is not None:
                request.rating = rating
            if comment:
                request.rating_comment = comment
            casework.record(session, request, actor, "rating", f"{rating}/5" if rating is not None else comment)
        case act.AnswerRequest(text=words, attachments=attachments):
            request.attachments = list(request.attachments or []) + [asdict(a) for a in attachments]
            note = words or ", ".join(a.kind for a in attachments)
            if request.status == "waiting_citizen":
                casework.move(session, request, "in_progress", actor, note, kind="citizen_answer")
            else:
                casework.record(session, request, actor, "citizen_answer", note)
            _alert(session, request, "staff_alert_answered", answer=note[:500])
        case _:
            return
    session.flush()


def _with_words(note: str, words: str | None) -> str:
    return f"{note}: «{words}»" if words else note


def _alert(session: Session, request: Request, key: str, words: str | None = None, **values) -> None:
    """Tell the assignee (or, if nobody has taken it, the department);
    ``words``: what the citizen added, quoted under the alert."""
    people = [session.get(Caseworker, request.assignee_id)] if request.assignee_id else casework.staff_of(session, request.department_id)
    for person in people:
        if person is not None and person.address and person.active:
            body = text(person.language, key, code=request.code, **values) + (f"\n«{words[:500]}»" if words else "")
            casework.queue(session, person.address, body, request_id=request.id)
