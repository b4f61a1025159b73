"""Who an announcement reaches, written to the outbox in batches, and how
it is going.

An audience is a small dict (stored on the broadcast, so a restart reads
the same one):

- ``citizens``: True to take citizens, narrowed by ``localities`` (where
  they live; an area is stored as every locality inside it), ``language``
  and ``category`` (with an open request of it);
- ``subscribers``: localities whose visit subscribers are added;
- ``numbers``: addresses named one by one (a CSV of phone numbers or
  Telegram ids), ``telegram:123`` or ``whatsapp:+998...``;
- ``channels``: localities whose Telegram channels and groups get one post.

Each person is one recipient whatever the sources they are in (a key per
citizen), at the address they last wrote from. Recipients are read and
written a batch at a time, in id order, with the position kept on the
broadcast (``cursor``): memory stays flat for any audience, and after a
crash the next run goes on from the last committed batch; each outbox row
has a unique key, so a batch written twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, update
from sqlmodel import Session, select

from flows.lifecycle import OPEN
from storage.db import insert_new
from storage.models import Broadcast, BroadcastChannel, Citizen, Conversation, Identity, Message, Request, VisitSubscription, utcnow

PHASES = ("citizens", "subscribers", "numbers", "channels")
BATCH = 500
SKIPPED = "skipped"  # the status of an announcement to a citizen who said STOP: on record, never sent
CANCELLED = "cancelled"
WAITING = ("queued", "retry", "held")  # not sent yet: a cancel stops these


@dataclass(frozen=True)
class Recipient:
    key: str  # one per person: c<citizen id>, or a<address> for an address we do not know
    address: str
    citizen_id: int | None = None
    language: str | None = None
    locality_id: str | None = None
    opted_out: bool = False


def recipients(session: Session, audience: dict, cursor: dict | None = None, batch: int = BATCH) -> Iterator[tuple[list[Recipient], dict]]:
    """The audience a batch at a time, each with the cursor to resume after it."""
    cursor = dict(cursor or {})
    for index, phase in enumerate(PHASES):
        if index < cursor.get("phase", 0):
            continue
        after = cursor.get("after") if index == cursor.get("phase", 0) else None
        read = _READERS[phase]
        while True:
            found, after = read(session, audience, after, batch)
            if not found and after is None:
                break
            yield found, {"phase": index, "after": after}
            if after is None:
                break
    yield [], {"phase": len(PHASES), "after": None}


def count(session: Session, audience: dict) -> dict[str, int]:
    """How many the audience reaches, by language (``channels`` for posts,
    ``skipped`` for those who said STOP): the preview before confirming."""
    seen: set[str] = set()
    counts: dict[str, int] = {}
    for found, _ in recipients(session, audience):
        for person in found:
            if person.key in seen:
                continue
            seen.add(person.key)
            kind = "skipped" if person.opted_out else "channels" if person.key.startswith("ch") else person.language or "language unknown"
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def _citizens(session: Session, audience: dict, after, batch: int):
    if not audience.get("citizens"):
        return [], None
    statement = select(Citizen).where(Citizen.erased_at.is_(None)).order_by(Citizen.id).limit(batch)
    if after is not None:
        statement = statement.where(Citizen.id > after)
    if audience.get("localities"):
        statement = statement.where(Citizen.locality_id.in_(audience["localities"]))
    if audience.get("language"):
        statement = statement.where(Citizen.language == audience["language"])
    if audience.get("category"):
        open_in_category = select(Request.citizen_id).where(Request.category_id == audience["category"], Request.status.in_(sorted(OPEN)))
        statement = statement.where(Citizen.id.in_(open_in_category))
    people = list(session.exec(statement))
    if not people:
        return [], None
    where = _addresses(session, [p.id for p in people])
    found = [Recipient(f"c{p.id}", where[p.id], p.id, p.language, p.locality_id, p.broadcasts_opted_out_at is not None)
             for p in people if p.id in where]
    return found, people[-1].id


def _subscribers(session: Session, audience: dict, after, batch: int):
    if not audience.get("subscribers"):
        return [], None
    statement = (
        select(VisitSubscription, Citizen).join(Citizen, Citizen.id == VisitSubscription.citizen_id)
        .where(VisitSubscription.locality_id.in_(audience["subscribers"]), Citizen.erased_at.is_(None))
        .order_by(VisitSubscription.id).limit(batch)
    )
    if after is not None:
        statement = statement.where(VisitSubscription.id > after)
    rows = list(session.exec(statement))
    if not rows:
        return [], None
    found = [Recipient(f"c{c.id}", s.address, c.id, c.language, c.locality_id, c.broadcasts_opted_out_at is not None)
             for s, c in rows if not _blocked(session, s.address)]
    return found, rows[-1][0].id


def _numbers(session: Session, audience: dict, after, batch: int):
    numbers = audience.get("numbers") or []
    start = after or 0
    if start >= len(numbers):
        return [], None
    found = []
    for address in numbers[start:start + batch]:
        identity = session.get(Identity, address)
        if identity is None:
            found.append(Recipient(f"a{address}", address))
            continue
        if identity.blocked_at is not None:
            continue
        citizen = session.get(Citizen, identity.citizen_id)
        if citizen is not None and citizen.erased_at is None:
            found.append(Recipient(f"c{citizen.id}", address, citizen.id, citizen.language, citizen.locality_id,
                                   citizen.broadcasts_opted_out_at is not None))
    return found, start + batch


def _channels(session: Session, audience: dict, after, batch: int):
    if not audience.get("channels"):
        return [], None
    statement = select(BroadcastChannel).where(
        BroadcastChannel.locality_id.in_(audience["channels"]), BroadcastChannel.active,
    ).order_by(BroadcastChannel.address).limit(batch)
    if after is not None:
        statement = statement.where(BroadcastChannel.address > after)
    rows = list(session.exec(statement))
    if not rows:
        return [], None
    return [Recipient(f"ch{c.address}", c.address, locality_id=c.locality_id) for c in rows], rows[-1].address


_READERS = {"citizens": _citizens, "subscribers": _subscribers, "numbers": _numbers, "channels": _channels}


def _addresses(session: Session, citizen_ids: list[int]) -> dict[int, str]:
    """Each citizen's address to write to: where they last wrote from, on a
    channel that has not blocked us."""
    rows = session.exec(
        select(Identity.citizen_id, Identity.address, Conversation.last_inbound_at)
        .join(Conversation, Conversation.address == Identity.address, isouter=True)
        .where(Identity.citizen_id.in_(citizen_ids), Identity.blocked_at.is_(None))
    )
    best: dict[int, tuple] = {}
    for citizen_id, address, last in rows:
        rank = (last is not None, last or datetime.min.replace(tzinfo=utcnow().tzinfo), address)
        if citizen_id not in best or rank > best[citizen_id][0]:
            best[citizen_id] = (rank, address)
    return {citizen_id: address for citizen_id, (_, address) in best.items()}


def _blocked(session: Session, address: str) -> bool:
    identity = session.get(Identity, address)
    return identity is not None and identity.blocked_at is not None


# -- writing and reading the outbox rows ---------------------------------------------


def write(session: Session, rows: list[dict]) -> int:
    """Insert a batch of outbox rows in one statement; a row whose key is
    already there (a batch written again after a crash) is left alone.
    Returns how many were new."""
    return insert_new(session, Message, rows, "dedupe_key")


def progress(session: Session, broadcast_id: int) -> dict[str, int]:
    """How the broadcast's messages stand, by status (``delivered`` counts
    read ones too; ``queued`` counts those sending and waiting to retry)."""
    rows = session.exec(
        select(Message.status, func.count()).where(Message.broadcast_id == broadcast_id).group_by(Message.status)
    )
    merge = {"read": "delivered", "retry": "queued", "sending": "queued"}
    counts = {"queued": 0, "sent": 0, "delivered": 0, "failed": 0, "held": 0, SKIPPED: 0, CANCELLED: 0}
    for status, number in rows:
        status = merge.get(status, status)
        counts[status] = counts.get(status, 0) + number
    return counts


def cancel_waiting(session: Session, broadcast_id: int, now: datetime) -> int:
    """What is not yet sent is not sent: returns how many were stopped."""
    done = session.execute(
        update(Message).where(Message.broadcast_id == broadcast_id, Message.status.in_(WAITING))
        .values(status=CANCELLED, error="the announcement was cancelled", next_attempt_at=None, failed_at=now)
    )
    return done.rowcount or 0


def lock(session: Session, broadcast_id: int) -> Broadcast | None:
    """The broadcast, locked for this transaction on PostgreSQL (one writer
    of its recipients at a time)."""
    return session.get(Broadcast, broadcast_id, with_for_update=session.get_bind().dialect.name == "postgresql")


def waiting(session: Session, broadcast_id: int, now: datetime) -> int:
    """A broadcast's rows due to go and not gone yet."""
    due = or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now)
    return session.exec(select(func.count()).select_from(Message).where(
        Message.broadcast_id == broadcast_id, Message.status.in_(("queued", "retry", "sending")), due)).one()
