"""Keys for other systems that file requests through the Open311 API."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models.base import utcnow, when


class ApiKey(SQLModel, table=True):
    """One client of the Open311 API (a city portal, an app). Only a hash of
    the key is kept: the key itself is shown once, when it is made."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = when(default_factory=utcnow)
    last_used_at: datetime | None = when(default=None)
    revoked_at: datetime | None = when(default=None)
