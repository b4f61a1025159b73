"""Keeping personal data out of what people other than its owner read:
logs, and staff who need to recognise a contact but not to call it.

:func:`mask` is the one way an address is shown partly: logs at INFO and
above always show it masked, never whole. :func:`error_summary` describes a
failure for a log line without the error's own message, which may quote
what was being stored or sent (SQL parameters, a database's ``DETAIL: Key
(address)=(…)``, a channel's "the number +549… is not valid").
"""

from __future__ import annotations

import traceback
from pathlib import PurePath

HIDDEN = "****"


def mask(address: str | None) -> str:
    """``whatsapp:+5492215550134`` -> ``whatsapp:+54922****134``;
    ``telegram:123456789`` -> ``telegram:1****789``; ``console:karim`` ->
    ``console:****``. The country and area show (at most six leading
    characters, and at least five always hidden) and the last three."""
    if not address:
        return HIDDEN
    channel, colon, contact = address.rpartition(":")
    prefix = f"{channel}{colon}"
    if len(contact) < 8:
        return prefix + HIDDEN
    lead = min(6, len(contact) - 8)
    return f"{prefix}{contact[:lead]}{HIDDEN}{contact[-3:]}"


def error_summary(error: BaseException, frames: int = 4) -> str:
    """``IntegrityError [23505] at message_path.py:88 insert_messages < engine.py:120 handle``:
    the kind of error, the database's error code when there is one, and
    where it happened (innermost first), but never the error's message."""
    parts = [_kind(error)]
    stack = traceback.extract_tb(error.__traceback__)[-frames:] if error.__traceback__ else []
    if stack:
        parts.append("at " + " < ".join(f"{PurePath(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack)))
    cause = error.__cause__ or error.__context__
    if cause is not None and cause is not error:
        parts.append(f"(from {_kind(cause)})")
    return " ".join(parts)


def _kind(error: BaseException) -> str:
    name = type(error).__name__
    original = getattr(error, "orig", None)  # SQLAlchemy wraps the driver's error
    code = _database_code(original) if original is not None else _database_code(error)
    if original is not None:
        name += f"/{type(original).__name__}"
    return f"{name} [{code}]" if code else name


def _database_code(error: BaseException) -> str | None:
    """PostgreSQL's SQLSTATE (psycopg) or SQLite's error name."""
    for attribute in ("sqlstate", "sqlite_errorname"):
        value = getattr(error, attribute, None)
        if isinstance(value, str) and value:
            return value
    return None
