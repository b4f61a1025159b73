"""Leases in the store: one holder at a time for a named job, across every
process that shares the store (see :class:`storage.models.Lease`).

Taking a lease is one conditional UPDATE (ours already, or run out), and an
INSERT the first time; the row lock of the UPDATE on PostgreSQL, and the one
writer of SQLite, make two takers agree on one winner.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from storage.models import Lease

_L = Lease.__table__


def take(database: Engine, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew ``name`` for ``holder`` until ``now + ttl``; True if held."""
    expires = now + ttl
    try:
        with database.begin() as conn:
            renewed = conn.execute(
                update(_L)
                .where(_L.c.name == name, (_L.c.holder == holder) | (_L.c.expires_at < now))
                .values(holder=holder, expires_at=expires)
            )
            if renewed.rowcount == 1:
                return True
            if conn.execute(_L.select().where(_L.c.name == name)).first() is not None:
                return False  # somebody else holds it
            conn.execute(insert(_L).values(name=name, holder=holder, expires_at=expires))
            return True
    except IntegrityError:
        return False  # another process inserted it first


def give_up(database: Engine, name: str, holder: str) -> None:
    """Let another process take ``name`` now rather than when it runs out."""
    with database.begin() as conn:
        conn.execute(delete(_L).where(_L.c.name == name, _L.c.holder == holder))
