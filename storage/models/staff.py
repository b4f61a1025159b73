"""The people who work the queue, and the invites that bring new ones in."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models.base import json_field, utcnow, when


class Caseworker(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    role: str = Field(default="caseworker", max_length=20)  # caseworker | supervisor | admin
    language: str = Field(default="en", max_length=10)  # of the bot's answers to them
    department_id: str | None = Field(default=None, foreign_key="department.id")
    address: str | None = Field(default=None, max_length=120, unique=True)  # where they read the bot
    active: bool = True
    created_at: datetime = when(default_factory=utcnow)
    last_assigned_at: datetime | None = when(default=None)  # for round-robin assignment
    # The choices last shown to them, ``[key, label]`` pairs: on WhatsApp and
    # the console a typed "2" (or the label's words) picks the second.
    shown: list = json_field(list)


class StaffInvite(SQLModel, table=True):
    """A one-time code an admin hands to a new member of staff (``/join CODE``)."""

    code: str = Field(primary_key=True, max_length=16)
    role: str = Field(max_length=20)
    department_id: str | None = Field(default=None, foreign_key="department.id")
    created_by: int | None = Field(default=None, foreign_key="caseworker.id")
    created_at: datetime = when(default_factory=utcnow)
    expires_at: datetime = when()
    used_by: int | None = Field(default=None, foreign_key="caseworker.id")
    used_at: datetime | None = when(default=None)


class SignInLink(SQLModel, table=True):
    """A one-time link to the dashboard the bot sent a member of staff
    (``/dashboard``). Only a hash of its token is kept; it works once,
    until ``expires_at``."""

    __tablename__ = "sign_in_link"

    token_hash: str = Field(primary_key=True, max_length=64)
    caseworker_id: int = Field(foreign_key="caseworker.id", index=True)
    created_at: datetime = when(default_factory=utcnow)
    expires_at: datetime = when()
    used_at: datetime | None = when(default=None)
