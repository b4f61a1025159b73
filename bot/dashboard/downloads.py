"""The dashboard's exports: which requests a member of staff may take, and
the file, pseudonymized unless an admin asked for personal data (which is
then on record before a row leaves)."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timezone

from bot import exports
from storage import privacy
from storage.db import session_scope
from storage.models import Caseworker


def departments_of(me: Caseworker) -> list[str] | None:
    """The departments whose requests and figures a member of staff sees (None: all)."""
    return None if me.role == "admin" or me.department_id is None else [me.department_id]


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def filters_for(me: Caseworker, start: date | None, end: date | None, params) -> exports.Filters:
    """The form's filters, within the departments ``me`` may see whatever the form asked."""
    allowed = departments_of(me)
    wanted = tuple(d for d in params.getlist("department") if d)
    if allowed is not None:
        wanted = tuple(d for d in wanted if d in allowed) or tuple(allowed)
    return exports.Filters(
        start=midnight(start) if start else None, end=midnight(end) if end else None,
        statuses=tuple(s for s in params.getlist("status") if s), categories=tuple(c for c in params.getlist("category") if c),
        departments=wanted,
    )


def table_file(database, me: Caseworker, table: str, fmt: str, filters: exports.Filters, key: bytes | None) -> bytes:
    """The table as CSV or XLSX bytes; ``key`` None: with personal data, recorded first."""
    if key is None:
        with session_scope(database) as db:
            privacy.audit(db, f"caseworker:{me.id} ({me.name})", exports.PERSONAL_EXPORT.format(table=table), "to the dashboard")
    columns, rows = exports.TABLES[table](database, filters, key=key)
    if fmt == "xlsx":
        out = io.BytesIO()
        exports.write_xlsx(out, table, columns, rows)
        return out.getvalue()
    text = io.StringIO()
    exports.write_csv(text, columns, rows)
    return text.getvalue().encode("utf-8")
