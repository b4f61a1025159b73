"""What a channel delivered and we have not handled yet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.base import utcnow, when


class InboxItem(SQLModel, table=True):
    """An update a channel handed us, stored before the channel is told we
    have it (a 200 to a webhook, an offset confirmed to Telegram) and deleted
    once the engine has handled it.

    The row is the update as the channel sent it (``payload``, JSON text: a
    text column keeps what PostgreSQL's JSONB refuses, such as ``\\u0000``).
    What stays here after a crash is handled on the next start; handling it
    twice is harmless, as the engine keys every message by the channel's id.
    ``attempts`` and ``error`` say how often handling it failed, and why.
    """

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_inbox_external"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    external_id: str = Field(max_length=120)
    payload: str
    received_at: datetime = when(default_factory=utcnow)
    attempts: int = 0
    error: str | None = None
