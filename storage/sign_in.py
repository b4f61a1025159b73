"""One-time sign-in links to the dashboard: made for a member of staff,
taken once, within ten minutes."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlalchemy.engine import Connection

from storage.models import Caseworker, SignInLink, utcnow
from storage.tokens import token_hash

VALID = timedelta(minutes=10)



def issue(conn: Connection, caseworker_id: int, now: datetime | None = None) -> str:
    """A new link's token (travels once, in the message to them)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(24)
    conn.execute(insert(SignInLink.__table__), {
        "token_hash": token_hash(token), "caseworker_id": caseworker_id, "created_at": now, "expires_at": now + VALID,
    })
    return token


def redeem(conn: Connection, token: str, now: datetime | None = None) -> int | None:
    """The member of staff a live, unused link is for, marking it used; None
    for a link used, expired, unknown, or of someone no longer on the staff."""
    now = now or utcnow()
    links = SignInLink.__table__
    row = conn.execute(
        update(links).where(links.c.token_hash == token_hash(token), links.c.used_at.is_(None), links.c.expires_at > now)
        .values(used_at=now).returning(links.c.caseworker_id)
    ).first()
    if row is None:
        return None
    staff = Caseworker.__table__
    active = conn.execute(staff.select().where(staff.c.id == row.caseworker_id, staff.c.active.is_(True))).first()
    return row.caseworker_id if active else None
