"""The Open311 API's keys: made, listed, revoked, and checked on every post.

A key is 32 random bytes in URL-safe text; the store keeps its SHA-256, so a
copy of the database does not hand out working keys.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from storage.models import ApiKey, utcnow
from storage.tokens import token_hash



def add(database: Engine, name: str) -> tuple[ApiKey, str]:
    """A new key for the client ``name``: the row, and the key itself (shown once)."""
    key = secrets.token_urlsafe(32)
    row = {"name": name.strip()[:200], "key_hash": token_hash(key), "created_at": utcnow()}
    with database.begin() as conn:
        row["id"] = conn.execute(ApiKey.__table__.insert().returning(ApiKey.__table__.c.id), row).scalar_one()
    return ApiKey(**row), key


def listed(database: Engine) -> list[ApiKey]:
    with database.connect() as conn:
        return [ApiKey(**row._mapping) for row in conn.execute(select(ApiKey.__table__).order_by(ApiKey.id))]


def revoke(database: Engine, which: str) -> list[ApiKey]:
    """Revoke the key with this id, or every live key of the client with this
    name; returns the keys revoked now."""
    table = ApiKey.__table__
    chosen = table.c.id == int(which) if which.isdigit() else table.c.name == which
    with database.begin() as conn:
        rows = conn.execute(
            update(table).where(chosen, table.c.revoked_at.is_(None)).values(revoked_at=utcnow()).returning(*table.c)
        ).all()
    return [ApiKey(**row._mapping) for row in rows]


def check(database: Engine, key: str) -> ApiKey | None:
    """The live key ``key`` is (its use is noted), or None."""
    if not key:
        return None
    table = ApiKey.__table__
    with database.begin() as conn:
        row = conn.execute(
            update(table).where(table.c.key_hash == token_hash(key), table.c.revoked_at.is_(None))
            .values(last_used_at=utcnow()).returning(*table.c)
        ).first()
    return ApiKey(**row._mapping) if row else None
