"""What a channel needs from the store around delivery, beyond the outbox:
when the citizen last wrote (WhatsApp's 24-hour window), putting held
messages back in the queue once they write again (the outbox does, in its
claiming transaction), and a delivery report
moving a sent message forward.

Every function takes an open :class:`~sqlalchemy.engine.Connection` first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, Row

from storage.models import Conversation, Message

_C = Conversation.__table__
_M = Message.__table__

# A delivery report only ever moves a message forward: reports arrive out of
# order, and "sent" coming after "read" must not undo it.
PROGRESS = ("queued", "sending", "sent", "delivered", "read")

_LAST_INBOUND = select(_C.c.last_inbound_at).where(_C.c.address == bindparam("address"))
_RELEASE_HELD = (
    update(_M)
    .where(_M.c.address.in_(bindparam("keys", expanding=True)), _M.c.direction == "out", _M.c.status == "held")
    .values(status="queued", next_attempt_at=None)
)
_OUTBOUND_BY_ID = select(_M.c.id, _M.c.status, _M.c.address).where(
    _M.c.channel == bindparam("channel"), _M.c.direction == "out", _M.c.external_id == bindparam("external_id")
)


def last_inbound_at(conn: Connection, address: str) -> datetime | None:
    """When the citizen last wrote from ``address`` (None: never)."""
    return conn.execute(_LAST_INBOUND, {"address": address}).scalar()


def release_held(conn: Connection, addresses: list[str]) -> int:
    """Queue again every message held for ``addresses``; returns how many.
    The held reason stays in ``error`` until the next attempt overwrites it."""
    return conn.execute(_RELEASE_HELD, {"keys": addresses}).rowcount


def outbound_by_external_id(conn: Connection, channel: str, external_id: str) -> Row | None:
    """The sent message the channel knows as ``external_id`` (id, status, address)."""
    return conn.execute(_OUTBOUND_BY_ID, {"channel": channel, "external_id": external_id}).first()


def advance(conn: Connection, message_id: int, current: str, status: str) -> bool:
    """Move a message to ``status`` if that is further along than ``current``
    (and it has not failed meanwhile). Returns whether it moved."""
    if current not in PROGRESS or status not in PROGRESS or PROGRESS.index(status) <= PROGRESS.index(current):
        return False
    moved = conn.execute(update(_M).where(_M.c.id == message_id, _M.c.status == current).values(status=status, error=None))
    return moved.rowcount == 1
