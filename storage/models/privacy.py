"""What personal-data rights leave behind: one-time links to a citizen's
own data, and the audit trail of who took personal data out of the store."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models.base import utcnow, when


class DataExport(SQLModel, table=True):
    """A citizen asked for a file with their data (``/mydata``).

    Only a hash of the token is kept: the token itself travels once, in the
    message that carries the file or its link. The file is built when it is
    fetched, so it never sits in the store; a link works once, until
    ``expires_at``.
    """

    __tablename__ = "data_export"

    token_hash: str = Field(primary_key=True, max_length=64)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    created_at: datetime = when(default_factory=utcnow)
    expires_at: datetime = when()
    used_at: datetime | None = when(default=None)


class AuditEntry(SQLModel, table=True):
    """Someone took personal data out of the store (an export with personal
    data): who, when, what and where to."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = when(default_factory=utcnow, index=True)
    actor: str = Field(max_length=200)  # "caseworker:3 (Nodira K.)", "os:alice"
    action: str = Field(max_length=60)
    detail: str | None = None
