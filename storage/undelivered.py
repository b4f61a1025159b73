"""What has not reached its citizen yet: the outbox's backlog (for
``/healthz``), the held and failed messages staff look at, and sending them
again. Every function takes an open session first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from storage.models import Identity, Message

WAITING = ("queued", "retry", "sending")  # still the outbox's to deliver
STUCK = ("failed", "held")  # need a person, or the citizen, to move


@dataclass
class Backlog:
    waiting: dict[str, int] = field(default_factory=dict)  # by status
    held: int = 0
    failed: int = 0
    failed_recently: int = 0  # given up within the ``recent`` window
    oldest_waiting_at: datetime | None = None

    @property
    def due(self) -> int:
        return sum(self.waiting.values())


def backlog(session: Session, now: datetime, *, channels: list[str] | None = None, recent: timedelta = timedelta(hours=24)) -> Backlog:
    """How much is waiting and stuck, on ``channels`` (all when None)."""
    where = [Message.direction == "out"]
    if channels is not None:
        where.append(Message.channel.in_(channels))
    counts = dict(session.exec(select(Message.status, func.count()).where(*where, Message.status.in_(WAITING + STUCK)).group_by(Message.status)).all())
    oldest = session.exec(select(func.min(Message.created_at)).where(*where, Message.status.in_(WAITING))).one()
    recently = session.exec(select(func.count()).select_from(Message).where(*where, Message.status == "failed", Message.failed_at >= now - recent)).one()
    return Backlog(
        waiting={status: counts[status] for status in WAITING if counts.get(status)},
        held=counts.get("held", 0), failed=counts.get("failed", 0), failed_recently=recently,
        oldest_waiting_at=oldest,
    )


def stuck(session: Session, statuses: tuple[str, ...] = STUCK, limit: int = 20) -> tuple[list[Message], int]:
    """The most recent held or failed outbound messages, and how many there are in all."""
    where = (Message.direction == "out", Message.status.in_(statuses))
    rows = list(session.exec(select(Message).where(*where).order_by(Message.id.desc()).limit(limit)))
    total = session.exec(select(func.count()).select_from(Message).where(*where)).one()
    return rows, total


def send_again(session: Session, *, ids: list[int] | None = None, statuses: tuple[str, ...] = STUCK) -> tuple[list[int], int]:
    """Put held or failed messages back in the queue, with a fresh retry
    window; the old reason stays in ``error`` until the next try.

    ``ids``: those messages (as asked, even to a contact that blocked the
    bot). Otherwise every message in ``statuses``, except those to a
    contact that blocked the bot. Returns the ids queued again and how many
    were skipped for a block."""
    statement = select(Message).where(Message.direction == "out", Message.status.in_(statuses)).order_by(Message.id)
    if ids is not None:
        statement = statement.where(Message.id.in_(ids))
    rows = list(session.exec(statement))
    blocked: set[str] = set()
    if ids is None and rows:
        addresses = sorted({row.address for row in rows})
        blocked = set(session.exec(select(Identity.address).where(Identity.address.in_(addresses), Identity.blocked_at.is_not(None))))
    queued = []
    for row in rows:
        if row.address in blocked:
            continue
        row.status, row.next_attempt_at, row.failing_since, row.failed_at = "queued", None, None, None
        session.add(row)
        queued.append(row.id)
    return queued, len(rows) - len(queued)
