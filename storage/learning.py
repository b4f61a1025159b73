"""The store's side of learning from caseworkers: corrections of a
request's category, kept as examples for the classifier."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from storage.models import CategoryCorrection, utcnow

_K = CategoryCorrection.__table__
_ACTIVE = select(_K.c.id, _K.c.text, _K.c.category_id).where(_K.c.removed_at.is_(None)).order_by(_K.c.id)
_STAMP = select(func.count(), func.max(_K.c.id), func.max(_K.c.removed_at))


def active(conn: Connection) -> list[tuple[int, str, str]]:
    """(id, text, category) of every correction in force, oldest first."""
    return [tuple(row) for row in conn.execute(_ACTIVE)]


def stamp(conn: Connection) -> tuple:
    """Changes whenever a correction is added or removed (one cheap query)."""
    return tuple(conn.execute(_STAMP).one())


def add(conn: Connection, *, request_id: int | None, text: str, category_id: str, previous: str | None, by: int | None) -> int:
    row = {"request_id": request_id, "text": text, "category_id": category_id, "previous_category_id": previous,
           "created_by": by, "created_at": utcnow()}
    return conn.execute(_K.insert().returning(_K.c.id), row).scalar_one()


def remove(conn: Connection, correction_id: int, by: int | None) -> bool:
    done = conn.execute(update(_K).where(_K.c.id == correction_id, _K.c.removed_at.is_(None)).values(removed_at=utcnow(), removed_by=by))
    return done.rowcount == 1


def listing(conn: Connection, limit: int = 30) -> list:
    statement = select(_K).where(_K.c.removed_at.is_(None)).order_by(_K.c.id.desc()).limit(limit)
    return list(conn.execute(statement))
