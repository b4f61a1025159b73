"""What several processes sharing one store agree on through it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models.base import when


class Lease(SQLModel, table=True):
    """Whoever holds ``name`` until ``expires_at`` does that job alone
    (e.g. the scheduler: one process runs the timed jobs). A holder that dies
    stops renewing, and another takes over when the lease runs out."""

    name: str = Field(primary_key=True, max_length=60)
    holder: str = Field(max_length=80)
    expires_at: datetime = when()
