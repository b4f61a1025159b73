"""What every table module shares: UTC timestamps and JSON columns that
behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlmodel import Field

from storage.types import JSONDict, UTCDateTime


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def when(**kw) -> Any:
    """A timestamp column, always an aware UTC datetime."""
    return Field(sa_type=UTCDateTime, **kw)


def json_field(default=dict) -> Any:
    """A JSON column (JSONB on PostgreSQL)."""
    return Field(default_factory=default, sa_type=JSONDict)
