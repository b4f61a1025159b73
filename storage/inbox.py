"""The inbox: what a channel delivered, stored before the channel is told
we have it, until the engine has handled it (see :class:`storage.models.InboxItem`).

Every function takes an open :class:`~sqlalchemy.engine.Connection` first.
"""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from storage.models import InboxItem, utcnow

_X = InboxItem.__table__
MAX_ERROR = 500

_STORE = {  # by dialect: the row's id, or nothing when the same update is already waiting
    name: dialect.insert(_X).on_conflict_do_nothing(index_elements=["channel", "external_id"]).returning(_X.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_PENDING = select(_X.c.id, _X.c.external_id, _X.c.payload).where(_X.c.channel == bindparam("channel")).order_by(_X.c.id)
_DONE = delete(_X).where(_X.c.id == bindparam("key"))
_FAILED = update(_X).where(_X.c.id == bindparam("key")).values(attempts=_X.c.attempts + 1, error=bindparam("reason"))


def store(conn: Connection, channel: str, items: list[tuple[str, str]]) -> list[int | None]:
    """Store ``(external_id, payload)`` pairs; for each, the id of its new
    row, or None when the same update is already waiting here."""
    statement = _STORE[conn.dialect.name]
    now = utcnow()
    return [
        conn.execute(statement, {"channel": channel, "external_id": external_id, "payload": payload, "received_at": now, "attempts": 0}).scalar()
        for external_id, payload in items
    ]


def pending(conn: Connection, channel: str) -> list[Row]:
    """What is stored and not handled yet (id, external_id, payload), oldest first."""
    return list(conn.execute(_PENDING, {"channel": channel}))


def done(conn: Connection, item_id: int) -> None:
    """Handled: the engine has the message now; the raw update goes."""
    conn.execute(_DONE, {"key": item_id})


def failed(conn: Connection, item_id: int, error: str) -> None:
    """Handling failed and kept nothing: the update stays, with the reason."""
    conn.execute(_FAILED, {"key": item_id, "reason": error[:MAX_ERROR]})
