"""Announcements: a broadcast to an audience, the Telegram channels and
groups of a district the bot posts in, and the recurring bazaar days.

A broadcast's recipients are not a table of their own: each is an outbox
:class:`~storage.models.messages.Message` with ``broadcast_id`` set, so
what happened to each person (queued, sent, delivered, failed, held,
skipped) is the message's own status, on record like every other message.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.base import json_field, utcnow, when


class Broadcast(SQLModel, table=True):
    """One announcement.

    ``texts`` maps a language to its text; a citizen whose language has no
    text gets ``fallback``'s. ``audience`` says who (see
    :mod:`storage.broadcasts`). Status: ``draft`` (previewed, not
    confirmed) -> ``confirmed`` (waits for ``send_at``) -> ``writing`` (its
    recipients are being written to the outbox; ``cursor`` says how far, so
    a restart goes on where it stopped) -> ``queued`` (every recipient is in
    the outbox), or ``cancelled`` at any point before the last message went.
    ``urgent`` announcements (emergency warnings) go at night too.
    ``occurrence`` names the bazaar day that made it: one broadcast per
    occurrence, whoever creates it.
    """

    __table_args__ = (UniqueConstraint("occurrence", name="uq_broadcast_occurrence"),)

    id: int | None = Field(default=None, primary_key=True)
    texts: dict = json_field()
    fallback: str = Field(max_length=10)
    audience: dict = json_field()
    urgent: bool = False
    status: str = Field(default="draft", max_length=20, index=True)
    send_at: datetime | None = when(default=None)
    cursor: dict = json_field()
    recipients: int = 0  # written to the outbox so far
    occurrence: str | None = Field(default=None, max_length=80)
    created_by: str = Field(default="system", max_length=80)
    created_at: datetime = when(default_factory=utcnow)
    confirmed_by: str | None = Field(default=None, max_length=80)
    confirmed_at: datetime | None = when(default=None)
    finished_at: datetime | None = when(default=None)  # every recipient written, or cancelled


class BroadcastChannel(SQLModel, table=True):
    """A Telegram channel or group of a place, where the bot is an admin and
    posts announcements once each (where rural news already travels)."""

    address: str = Field(primary_key=True, max_length=120)  # telegram:-100...
    title: str = Field(default="", max_length=200)
    locality_id: str = Field(foreign_key="locality.id", index=True, max_length=80)
    active: bool = True
    added_by: str = Field(default="system", max_length=80)
    added_at: datetime = when(default_factory=utcnow)


class BazaarDay(SQLModel, table=True):
    """A recurring announcement for a place: every week on ``weekday``
    (0 = Monday), or only the ``nth`` such day of the month (1-4, or -1 for
    the last), at ``at`` ("07:00") local time. Each occurrence becomes one
    :class:`Broadcast`."""

    id: int | None = Field(default=None, primary_key=True)
    locality_id: str = Field(foreign_key="locality.id", index=True, max_length=80)
    weekday: int
    nth: int | None = None
    at: str = Field(max_length=5)
    texts: dict = json_field()
    fallback: str = Field(max_length=10)
    audience: dict = json_field()
    active: bool = True
    created_by: str = Field(default="system", max_length=80)
    created_at: datetime = when(default_factory=utcnow)
