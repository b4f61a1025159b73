"""The engine's side of a citizen's rights over their data: the actions of
:mod:`flows.privacy` (and of a refused consent), performed inside the
message's transaction, and the citizen's file as each channel hands it over.

The file is never stored: a reply carries a one-time token
(:func:`storage.privacy.new_export`), and the file is built from the store
when it goes out — uploaded as a document on Telegram (the token never
leaves the server), or behind a link served by the web app
(``GET /mydata/<token>``: once, within an hour) on WhatsApp, which can only
attach files it fetches from a public URL.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy.engine import Connection
from sqlmodel import Session

from flows import actions as act
from flows.i18n import text
from flows.lifecycle import OPEN
from flows.messages import Outgoing
from storage import casework
from storage import privacy as store
from storage.db import session_scope
from storage.models import Caseworker

log = logging.getLogger(__name__)
ERASED_ADDRESS = "{channel}:erased"


def apply(conn: Connection, citizen_id: int, action: act.Action, inbound: dict, replies: list[Outgoing]) -> None:
    """Perform ``action`` in the message's transaction (``conn``). ``inbound``
    is the row about to be stored for the message; ``replies`` the turn's."""
    session = Session(bind=conn)
    match action:
        case act.EraseAfterRefusal():
            store.erase_after_refusal(session, citizen_id)
            inbound.update(text=store.ERASED, payload={})
        case act.KeepNoWords() if inbound.get("status") == "processed":  # one for a person keeps what they need
            inbound.update(text=store.ERASED, payload={})
        case act.SendMyData():
            token = store.new_export(session, citizen_id)
            replies[:] = [replace(r, document=token) if r.document == act.SendMyData.PLACEHOLDER else r for r in replies]
        case act.ForgetMe():
            for request in store.forget(session, citizen_id):
                if request.status in OPEN and request.assignee_id:
                    _tell_holder(session, request)
            # The message that asked leaves no trace either; this turn's
            # replies go out unattached to the erased citizen (see bot.engine).
            inbound.update(citizen_id=None, text=store.ERASED, payload={},
                           address=ERASED_ADDRESS.format(channel=inbound["channel"]))
            log.info("citizen %s erased at their request", citizen_id)
    session.flush()


def _tell_holder(session: Session, request) -> None:
    person = session.get(Caseworker, request.assignee_id)
    if person is not None and person.active and person.address:
        casework.queue(session, person.address, text(person.language, "staff_request_anonymized", code=request.code), request_id=request.id)


def file_for_upload(database):
    """For a sender that uploads the file itself (Telegram): ``token -> (name, bytes)``
    or None if the citizen has since been erased. Called in a worker thread."""

    def take(token: str) -> tuple[str, bytes] | None:
        with session_scope(database) as session:
            return store.take_export(session, token, link=False)

    return take


def file_for_link(database):
    """For the web app's ``/mydata/<token>``: the file once, within its hour."""

    def take(token: str) -> tuple[str, bytes] | None:
        with session_scope(database) as session:
            return store.take_export(session, token, link=True)

    return take
