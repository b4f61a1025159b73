"""Citizens, the channel identities they write from, and where each conversation stands."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models.base import json_field, utcnow, when


class Citizen(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    display_name: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=10)
    locality_id: str | None = Field(default=None, foreign_key="locality.id", index=True)
    consent: bool | None = None  # None: not asked yet
    consent_at: datetime | None = when(default=None)
    broadcasts_opted_out_at: datetime | None = when(default=None)
    created_at: datetime = when(default_factory=utcnow)
    # The citizen asked to be forgotten: nothing personal is left, no channel leads here any more.
    erased_at: datetime | None = when(default=None)


class Identity(SQLModel, table=True):
    """One way to reach a citizen: ``telegram:123`` or ``whatsapp:+54...``."""

    address: str = Field(primary_key=True, max_length=120)
    channel: str = Field(max_length=20)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    created_at: datetime = when(default_factory=utcnow)
    blocked_at: datetime | None = when(default=None)  # the citizen blocked the bot here


class Conversation(SQLModel, table=True):
    """Where a conversation stands, so a restart loses nothing."""

    address: str = Field(primary_key=True, max_length=120)
    flow: str = Field(default="", max_length=40)
    step: str = Field(default="", max_length=40)
    data: dict = json_field()
    version: int = 0  # of the menu shown: a button from an older one is stale (see flows.router)
    # One more on every write: a write that read an older one lost a race
    # with another process and is done again (see storage.message_path).
    revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # When the citizen last wrote here (WhatsApp's 24-hour window is counted from it).
    last_inbound_at: datetime | None = when(default=None)
    updated_at: datetime = when(default_factory=utcnow)
