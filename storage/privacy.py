"""The store's side of personal data: what we keep about a citizen (to show
it to them, or hand it over as a file), and taking it away again.

Three ways data goes, all the same underneath:

- **refusal** (:func:`erase_after_refusal`): a newcomer says "do not keep my
  data". Name, place and the words of every stored message go; the citizen
  row stays with the refusal and its date (and the language, to answer them).
- **forgetting** (:func:`forget`): the citizen asks to be erased. Everything
  personal goes, every request is anonymized (:func:`anonymize_request`),
  and the channel identities are cut loose, so a new message from the same
  phone starts a new citizen.
- **retention** (:func:`anonymize_closed`): requests closed longer ago than
  the retention period are anonymized the same way, and the words of older
  messages go too (except those of requests still open).

An anonymized request keeps what statistics need — category, the district
(a village is raised to its district), dates, status, rating — and loses
the citizen's words, files, coordinates and contact, and every free-text
note on its history. Message rows stay (counts, dates, delivery status) with
their words replaced by :data:`ERASED`.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import Session, select

from storage.models import (
    AuditEntry, Citizen, Conversation, DataExport, Identity, Locality, Message, NamedPlace, Request, RequestEvent, utcnow,
)
from storage.tokens import token_hash

ERASED = "[erased]"
ANONYMIZED_ADDRESS = ""
PENDING = ("queued", "retry", "held")  # outbound, not yet handed to a channel
CANCELLED = "cancelled: the citizen's personal data was erased"
# History notes written by the system, not by a person: kept on anonymization.
MACHINE_NOTES = frozenset({"sla_warning", "sla_breach", "anonymized"})
LINK_VALID = timedelta(hours=1)
BULK = {"synchronize_session": False}  # bulk statements: nothing they touch is held in the session
RETENTION_BATCH = 200
DRAFTING = timedelta(days=1)  # how long before filing a citizen's words for a request may have come


# -- what we keep ---------------------------------------------------------------

def addresses_of(session: Session, citizen_id: int) -> list[str]:
    return list(session.exec(select(Identity.address).where(Identity.citizen_id == citizen_id).order_by(Identity.created_at)))


def message_counts(session: Session, citizen_id: int) -> tuple[int, int]:
    """How many messages (in, out) the store holds for the citizen."""
    rows = session.exec(select(Message.direction).where(Message.citizen_id == citizen_id)).all()
    return sum(1 for d in rows if d == "in"), sum(1 for d in rows if d == "out")


def personal_data(session: Session, citizen_id: int, now: datetime | None = None) -> dict:
    """Everything the store keeps about the citizen, as one JSON-ready dict."""
    citizen = session.get(Citizen, citizen_id)
    identities = session.exec(select(Identity).where(Identity.citizen_id == citizen_id).order_by(Identity.created_at)).all()
    requests = session.exec(select(Request).where(Request.citizen_id == citizen_id).order_by(Request.created_at, Request.id)).all()
    messages = session.exec(select(Message).where(Message.citizen_id == citizen_id).order_by(Message.created_at, Message.id)).all()
    return {
        "exported_at": _iso(now or utcnow()),
        "citizen": {
            "name": citizen.display_name,
            "language": citizen.language,
            "place": _place(session, citizen.locality_id),
            "consent": citizen.consent,
            "consent_at": _iso(citizen.consent_at),
            "announcements_stopped_at": _iso(citizen.broadcasts_opted_out_at),
            "first_seen_at": _iso(citizen.created_at),
        },
        "channels": [
            {"channel": i.channel, "address": i.address, "since": _iso(i.created_at), "blocked_at": _iso(i.blocked_at)}
            for i in identities
        ],
        "requests": [_request_data(session, r) for r in requests],
        "messages": [
            {"at": _iso(m.created_at), "direction": m.direction, "channel": m.channel, "text": m.text,
             "attachments": (m.payload or {}).get("attachments", []), "location": (m.payload or {}).get("location"),
             "status": m.status}
            for m in messages
        ],
    }


def _request_data(session: Session, request: Request) -> dict:
    events = session.exec(select(RequestEvent).where(RequestEvent.request_id == request.id).order_by(RequestEvent.at, RequestEvent.id))
    return {
        "code": request.code, "category": request.category_id, "kind": request.kind, "status": request.status,
        "text": request.text, "place": _place(session, request.locality_id), "attachments": request.attachments,
        "latitude": request.latitude, "longitude": request.longitude, "resolution": request.resolution,
        "rating": request.rating, "rating_comment": request.rating_comment, "channel": request.channel,
        "created_at": _iso(request.created_at), "updated_at": _iso(request.updated_at),
        "resolved_at": _iso(request.resolved_at), "closed_at": _iso(request.closed_at),
        "anonymized_at": _iso(request.anonymized_at),
        "history": [
            {"at": _iso(e.at), "by": _who(e.actor), "what": e.kind, "from": e.from_status, "to": e.to_status, "note": e.note}
            for e in events
        ],
    }


def _who(actor: str) -> str:
    """Staff are named by role, not by name: the citizen's data is theirs, the staff's is not."""
    return "you" if actor.startswith("citizen:") else ("staff" if actor.startswith("caseworker:") else actor)


def _place(session: Session, locality_id: str | None) -> dict | None:
    if not locality_id:
        return None
    place = session.get(Locality, locality_id)
    return {"id": locality_id, "names": place.names if place else {}}


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


# -- the file, through a one-time token ----------------------------------------------

def new_export(session: Session, citizen_id: int, now: datetime | None = None, valid: timedelta = LINK_VALID) -> str:
    """A fresh token for the citizen's file; only its hash is stored."""
    now = now or utcnow()
    token = secrets.token_urlsafe(24)
    session.add(DataExport(token_hash=token_hash(token), citizen_id=citizen_id, created_at=now, expires_at=now + valid))
    return token


def take_export(session: Session, token: str, now: datetime | None = None, *, link: bool = True) -> tuple[str, bytes] | None:
    """The file behind ``token`` (name, JSON bytes), built now, or None.

    A ``link`` (the token travelled in a message) works once, before it
    expires. An upload (the token never left the server) works whenever the
    message goes out, unless the citizen has been erased meanwhile."""
    now = now or utcnow()
    export = session.get(DataExport, token_hash(token), with_for_update=True) if token else None
    if export is None or (link and (export.expires_at <= now or export.used_at is not None)):
        return None
    if link:
        export.used_at = now
        session.add(export)
    data = personal_data(session, export.citizen_id, now)
    body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    return f"my-data-{now:%Y-%m-%d}.json", body



# -- taking it away --------------------------------------------------------------

def erase_after_refusal(session: Session, citizen_id: int, now: datetime | None = None) -> None:
    """The citizen said no: keep only the refusal (and the language to answer in)."""
    now = now or utcnow()
    citizen = session.get(Citizen, citizen_id)
    citizen.display_name = None
    citizen.locality_id = None
    citizen.consent, citizen.consent_at = False, now
    session.add(citizen)
    _unlink_named_places(session, citizen_id)
    _erase_messages(session, citizen_id, addresses_of(session, citizen_id), cancel_pending=False)


def forget(session: Session, citizen_id: int, now: datetime | None = None) -> list[Request]:
    """Erase the citizen: returns their requests, each now anonymized."""
    now = now or utcnow()
    addresses = addresses_of(session, citizen_id)
    requests = list(session.exec(select(Request).where(Request.citizen_id == citizen_id)))
    for request in requests:
        anonymize_request(session, request, f"citizen:{citizen_id}", "at the citizen's request", now)
    erase_quotes(session, requests)
    _erase_messages(session, citizen_id, addresses, cancel_pending=True)
    for address in addresses:
        conversation = session.get(Conversation, address)
        if conversation is not None:
            # No new revision: "forget me" runs inside the message's own
            # transaction, whose write of the conversation follows this one.
            conversation.flow, conversation.step, conversation.data = "", "", {}
            session.add(conversation)
        session.delete(session.get(Identity, address))
    session.execute(delete(DataExport).where(DataExport.citizen_id == citizen_id), execution_options=BULK)
    _unlink_named_places(session, citizen_id)
    citizen = session.get(Citizen, citizen_id)
    citizen.display_name = citizen.locality_id = citizen.broadcasts_opted_out_at = None
    citizen.consent, citizen.consent_at, citizen.erased_at = None, None, now
    session.add(citizen)
    session.flush()
    return requests


def _unlink_named_places(session: Session, citizen_id: int) -> None:
    """A village name stays for the catalogue; who named it (where they live) does not."""
    session.execute(update(NamedPlace).where(NamedPlace.citizen_id == citizen_id).values(citizen_id=None), execution_options=BULK)


def anonymize_request(session: Session, request: Request, actor: str, why: str, now: datetime | None = None) -> bool:
    """Strip ``request`` of personal data, keeping what statistics need.
    Returns False if it was anonymized before."""
    if request.anonymized_at is not None:
        return False
    now = now or utcnow()
    original = request.text
    request.text, request.attachments = "", []
    request.latitude = request.longitude = None
    request.address = ANONYMIZED_ADDRESS
    request.resolution = request.rating_comment = None
    request.locality_id = district_of(session, request.locality_id)
    request.anonymized_at = now
    session.add(request)
    session.execute(
        update(RequestEvent).where(RequestEvent.request_id == request.id, RequestEvent.kind.not_in(MACHINE_NOTES)).values(note=None), execution_options=BULK
    )
    session.execute(update(Message).where(Message.request_id == request.id).values(text=ERASED, payload={}), execution_options=BULK)
    # What the citizen wrote while drafting it came before the code existed.
    drafted = select(Message).where(
        Message.citizen_id == request.citizen_id, Message.direction == "in", Message.request_id.is_(None),
        Message.created_at <= request.created_at, Message.created_at >= request.created_at - DRAFTING,
    )
    for message in session.exec(drafted):
        if message.text.strip() and message.text.strip() in original:
            message.text, message.payload = ERASED, {}
            session.add(message)
    session.add(RequestEvent(request_id=request.id, at=now, actor=actor, kind="anonymized",
                             from_status=request.status, to_status=request.status, note=why))
    return True


def erase_quotes(session: Session, requests: list[Request]) -> int:
    """Staff commands and cards name a request by its code and quote it:
    erase the words of every staff message naming one of ``requests``, in
    one pass over the staff messages since the oldest of them was filed
    (staff messages are the ones with no citizen). Returns how many."""
    if not requests:
        return 0
    codes = {r.code for r in requests} | {r.code.replace("-", "") for r in requests}
    naming = re.compile("|".join(re.escape(code) for code in sorted(codes)))
    since = min(r.created_at for r in requests)
    statement = select(Message.id, Message.text).where(
        Message.citizen_id.is_(None), Message.created_at >= since, Message.text != ERASED,
        ~((Message.direction == "out") & Message.status.in_(PENDING)),
    )
    found = [row.id for row in session.exec(statement) if naming.search(row.text.upper())]
    for start in range(0, len(found), 500):
        session.execute(update(Message).where(Message.id.in_(found[start:start + 500])).values(text=ERASED, payload={}), execution_options=BULK)
    return len(found)


def district_of(session: Session, locality_id: str | None) -> str | None:
    """A village or makhalla is raised to its district; coarser places stay."""
    places = _places(session)
    place = places.get(locality_id) if locality_id else None
    while place is not None and place[1] not in ("district", "region") and place[2]:
        place = places.get(place[2])
    return place[0] if place else locality_id


def _places(session: Session) -> dict[str, tuple[str, str, str | None]]:
    """Every place as (id, kind, parent), read once per session (a few hundred rows)."""
    cached = session.info.get("places")
    if cached is None:
        rows = session.exec(select(Locality.id, Locality.kind, Locality.parent_id)).all()
        cached = session.info["places"] = {row[0]: tuple(row) for row in rows}
    return cached


def anonymize_closed(session: Session, closed_before: datetime, now: datetime | None = None, batch: int = RETENTION_BATCH) -> list[Request]:
    """Anonymize the requests closed before ``closed_before`` (at most
    ``batch`` in one go: each looks for its code in every message, and the
    job comes back every hour); returns them."""
    now = now or utcnow()
    statement = select(Request).where(
        Request.anonymized_at.is_(None), Request.status.in_(("closed", "duplicate")), Request.closed_at <= closed_before,
    ).order_by(Request.id).limit(batch)
    done = [r for r in session.exec(statement) if anonymize_request(session, r, "system", "retention period over", now)]
    erase_quotes(session, done)
    # Every other message as old, save those of requests still open (their words are still needed).
    open_requests = select(Request.id).where(Request.status.not_in(("closed", "duplicate")))
    old = (Message.created_at <= closed_before) & (Message.text != ERASED) & ~((Message.direction == "out") & Message.status.in_(PENDING))
    unneeded = or_(Message.request_id.is_(None), Message.request_id.not_in(open_requests))
    session.execute(update(Message).where(old, unneeded).values(text=ERASED, payload={}), execution_options=BULK)
    session.flush()
    return done


def _erase_messages(session: Session, citizen_id: int, addresses: list[str], *, cancel_pending: bool) -> None:
    """Replace the words of every stored message of the citizen. When
    forgetting (``cancel_pending``), replies not yet handed to a channel are
    cancelled and the addresses go too; after a refusal they are left to go."""
    mine = or_(Message.citizen_id == citizen_id, Message.address.in_(addresses)) if addresses else Message.citizen_id == citizen_id
    pending = (Message.direction == "out") & Message.status.in_(PENDING)
    if cancel_pending:
        session.execute(update(Message).where(mine, pending).values(status="failed", error=CANCELLED, next_attempt_at=None), execution_options=BULK)
        # The address is a phone number on WhatsApp: it goes too (the channel stays, for counts).
        session.execute(update(Message).where(mine).values(text=ERASED, payload={}, address=Message.channel.concat(":erased")), execution_options=BULK)
    else:
        session.execute(update(Message).where(mine, ~pending).values(text=ERASED, payload={}), execution_options=BULK)


# -- the audit trail ------------------------------------------------------------------

def audit(session: Session, actor: str, action: str, detail: str | None = None, now: datetime | None = None) -> AuditEntry:
    entry = AuditEntry(at=now or utcnow(), actor=actor, action=action, detail=detail)
    session.add(entry)
    return entry
