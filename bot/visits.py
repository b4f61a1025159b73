"""What the engine does for the visit actions of a flow (see
:mod:`flows.visits`), inside the transaction of the citizen's message."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session

from flows import actions as act
from flows.i18n import text
from flows.messages import Outgoing
from storage import visits


def apply(conn, citizen, action: act.Action, locality_id: str | None, language: str | None, address: str,
          replies: list[Outgoing]) -> None:
    session = Session(bind=conn)
    match action:
        case act.BookVisit(visit_id=visit_id, service_id=service_id):
            booking = visits.book(session, visit_id, citizen.id, address, service_id)
            _fill_number(replies, language, booking)
        case act.CancelBooking(booking_id=booking_id):
            if visits.cancel_booking(session, booking_id, citizen.id) is None:
                _replace_text(replies, text(language, "visits_cancelled"), text(language, "visits_nothing_to_cancel"))
        case act.SubscribeVisits(locality_id=place, on=on):
            visits.subscribe(session, citizen.id, place, address, on)
        case act.NoteQuestion(service_id=service_id, visit_scheduled=scheduled):
            visits.record_question(session, citizen.id, locality_id, service_id, scheduled)
    session.flush()


def _fill_number(replies: list[Outgoing], language: str | None, booking) -> None:
    """Put the queue number in the reply that announces it, or, when the
    place went to someone else meanwhile, say so instead."""
    for i, reply in enumerate(replies):
        if act.BookVisit.NUMBER in reply.text:
            if isinstance(booking, str):
                replies[i] = replace(reply, text=text(language, "visits_full_now" if booking == "full" else "visits_gone"))
            else:
                replies[i] = replace(reply, text=reply.text.replace(act.BookVisit.NUMBER, str(booking.number)))


def _replace_text(replies: list[Outgoing], old: str, new: str) -> None:
    for i, reply in enumerate(replies):
        if reply.text == old:
            replies[i] = replace(reply, text=new)
