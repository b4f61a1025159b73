"""Every message in or out, with its delivery status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.models.base import json_field, utcnow, when


# The outbound statuses still to send; written out so that a query naming
# them word for word may use the partial index below (SQLite requires it).
TO_SEND = "direction = 'out' AND status IN ('queued', 'retry', 'sending')"


class Message(SQLModel, table=True):
    """Every message, in or out, with where it stands.

    Inbound: ``received -> processed``, ``needs_attention`` (a flow failed
    or a person must listen; someone must look) or ``refused`` (a staff
    command from someone who is not staff). Outbound: ``queued -> sending ->
    sent -> delivered -> read``, or ``retry`` (with ``next_attempt_at``),
    ``held`` (WhatsApp's 24-hour window is closed and no template fits: it
    goes when the citizen writes again) and ``failed``, with the reason in
    ``error``; an announcement may also end ``skipped`` (the citizen said
    STOP) or ``cancelled`` (its broadcast was cancelled before it went). ``payload["template"]`` names the kind of message (``reply``,
    ``status``, ``broadcast``) and so the approved template to use.
    ``failing_since`` is the first failed try of the current run of
    failures (retries go on for ``OUTBOX_RETRY_HOURS`` from it);
    ``failed_at`` is when the outbox gave up.
    """

    # A channel's id for a delivery is unique per direction: redelivered
    # updates are recognised; Telegram's update ids and message ids may meet.
    __table_args__ = (
        UniqueConstraint("channel", "direction", "external_id", name="uq_message_external"),
        # A message that must go out once whatever happens (a visit reminder, a
        # broadcast to one recipient) is queued under a key: queueing it twice
        # — after a restart, or from two processes — fails on this index.
        UniqueConstraint("dedupe_key", name="uq_message_dedupe_key"),
        # What the outbox claims, in the order it claims it: only messages
        # still to send are in it, so a claim on PostgreSQL reads the next
        # hundred, however many thousands were sent before them.
        Index("ix_message_to_send", "priority", "id", sqlite_where=text(TO_SEND), postgresql_where=text(TO_SEND)),
    )

    id: int | None = Field(default=None, primary_key=True)
    direction: str = Field(max_length=3)  # in | out
    channel: str = Field(max_length=20)
    address: str = Field(max_length=120, index=True)
    external_id: str | None = Field(default=None, max_length=120)
    dedupe_key: str | None = Field(default=None, max_length=160)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    request_id: int | None = Field(default=None, foreign_key="request.id", index=True)
    text: str = ""
    payload: dict = json_field()
    status: str = Field(max_length=20, index=True)
    error: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = when(default=None, index=True)
    created_at: datetime = when(default_factory=utcnow, index=True)
    sent_at: datetime | None = when(default=None)
    failing_since: datetime | None = when(default=None)
    failed_at: datetime | None = when(default=None, index=True)
    # An announcement's message: which broadcast, and it waits behind
    # everything else (priority 1); replies to citizens are priority 0.
    broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id", index=True)
    priority: int = 0
