"""Keeping personal data out of what people other than its owner read:
logs, and staff who need to recognise a contact but not to call it.

:func:`mask` is the one way an address is shown partly: logs at INFO and
above always show it masked, never whole. :func:`error_summary` describes a
failure for a log line without the error's own message, which may quote
what was being stored or sent (SQL parameters, a database's ``DETAIL: Key
(address)=(…)``, a channel's "the number +549… is not valid").
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from pathlib import PurePath

HIDDEN = "****"
_STDLIB = PurePath(logging.__file__).parent.parent.as_posix()


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
    """``IntegrityError/UniqueViolation [23505] at message_path.py:88 insert_messages < engine.py:120 _process``:
    the kind of error, the database's error code when there is one, and
    where in our code it happened (innermost first; libraries' frames
    only when none of ours is there), but never the error's message."""
    parts = [_kind(error)]
    stack = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    ours = [f for f in stack if not _library(f.filename)] or stack
    if ours:
        parts.append("at " + " < ".join(f"{PurePath(f.filename).name}:{f.lineno} {f.name}" for f in reversed(ours[-frames:])))
    cause = error.__cause__ or error.__context__
    if cause is not None and cause is not error and cause is not getattr(error, "orig", None):
        parts.append(f"(from {_kind(cause)})")
    return " ".join(parts)


def _library(filename: str) -> bool:
    return "site-packages" in filename or "dist-packages" in filename or filename.startswith(_STDLIB)


def log_failure(logger: logging.Logger, message: str, *args: object, error: BaseException | None = None) -> None:
    """Log the error being handled (or ``error``): at ERROR its summary,
    never its message; the whole traceback, message and all, only at DEBUG.
    ``message`` and ``args`` must hold no personal data (mask addresses)."""
    error = error or sys.exc_info()[1]
    if error is None:
        logger.error(message, *args)
        return
    logger.error(message + ": %s", *args, error_summary(error))
    logger.debug(message, *args, exc_info=error)


class KeepPersonalDataOut(logging.Filter):
    """The safety net on the log handlers, for what other libraries log at
    INFO and above (a web server's "Exception in ASGI application", a
    client's error): channel addresses and phone numbers in the message are
    masked, and an exception is reduced to :func:`error_summary`. Our own
    code masks and summarises at the source; DEBUG passes untouched."""

    _ADDRESS = re.compile(r"\b(?:whatsapp|telegram|sms|console|messenger):[+\w-]++(?!\*)")
    _PHONE = re.compile(r"(?<![\w*])\+\d{7,15}\b")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO:
            return True
        message = self._ADDRESS.sub(lambda m: mask(m.group(0)), record.getMessage())
        message = self._PHONE.sub(lambda m: mask(m.group(0)), message)
        if record.exc_info and record.exc_info[1] is not None:
            message += f" ({error_summary(record.exc_info[1])})"
            record.exc_info, record.exc_text = None, None
        record.msg, record.args = message, ()
        return True


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
