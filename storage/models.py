"""The tables of the store.

Names follow the words people use at the counter: a *citizen* reaches us
through one or more channel *identities*, lives in a *locality*, files
*requests* in a *category*; every change of a request is a *request event*;
every message in or out is a *message* row with its delivery status.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import JSONDict, UTCDateTime


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _when(**kw) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def _json(default=dict) -> Any:
    return Field(default_factory=default, sa_type=JSONDict)


class Locality(SQLModel, table=True):
    """Region > district > village (or makhalla, or Argentine localidad)."""

    id: str = Field(primary_key=True, max_length=80)
    kind: str = Field(max_length=20)  # region | district | village
    parent_id: str | None = Field(default=None, foreign_key="locality.id", index=True)
    country: str = Field(max_length=2)
    names: dict = _json()
    latitude: float | None = None
    longitude: float | None = None
    position: int = 0
    sample: bool = False


class Department(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=60)
    name: str = Field(max_length=200)
    names: dict = _json()  # the name in each language, for citizens
    assignment: str = Field(default="manual", max_length=20)  # manual | round_robin


class Category(SQLModel, table=True):
    """A standard request category of the catalogue."""

    id: str = Field(primary_key=True, max_length=60)
    names: dict = _json()
    descriptions: dict = _json()
    keywords: dict = _json()
    position: int = 0
    active: bool = True


class Citizen(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    display_name: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=10)
    locality_id: str | None = Field(default=None, foreign_key="locality.id", index=True)
    consent: bool | None = None  # None: not asked yet
    consent_at: datetime | None = _when(default=None)
    broadcasts_opted_out_at: datetime | None = _when(default=None)
    created_at: datetime = _when(default_factory=utcnow)


class Identity(SQLModel, table=True):
    """One way to reach a citizen: ``telegram:123`` or ``whatsapp:+54...``."""

    address: str = Field(primary_key=True, max_length=120)
    channel: str = Field(max_length=20)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    created_at: datetime = _when(default_factory=utcnow)
    blocked_at: datetime | None = _when(default=None)  # the citizen blocked the bot here


class Conversation(SQLModel, table=True):
    """Where a conversation stands, so a restart loses nothing."""

    address: str = Field(primary_key=True, max_length=120)
    flow: str = Field(default="", max_length=40)
    step: str = Field(default="", max_length=40)
    data: dict = _json()
    version: int = 0
    # When the citizen last wrote here (WhatsApp's 24-hour window is counted from it).
    last_inbound_at: datetime | None = _when(default=None)
    updated_at: datetime = _when(default_factory=utcnow)


class Caseworker(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    role: str = Field(default="caseworker", max_length=20)  # caseworker | supervisor | admin
    language: str = Field(default="en", max_length=10)  # of the bot's answers to them
    department_id: str | None = Field(default=None, foreign_key="department.id")
    address: str | None = Field(default=None, max_length=120, unique=True)  # where they read the bot
    active: bool = True
    created_at: datetime = _when(default_factory=utcnow)
    last_assigned_at: datetime | None = _when(default=None)  # for round-robin assignment


class StaffInvite(SQLModel, table=True):
    """A one-time code an admin hands to a new member of staff (``/join CODE``)."""

    code: str = Field(primary_key=True, max_length=16)
    role: str = Field(max_length=20)
    department_id: str | None = Field(default=None, foreign_key="department.id")
    created_by: int | None = Field(default=None, foreign_key="caseworker.id")
    created_at: datetime = _when(default_factory=utcnow)
    expires_at: datetime = _when()
    used_by: int | None = Field(default=None, foreign_key="caseworker.id")
    used_at: datetime | None = _when(default=None)


class Request(SQLModel, table=True):
    """What a citizen asks of the service; the unit caseworkers work on."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    category_id: str = Field(foreign_key="category.id", index=True)
    locality_id: str | None = Field(default=None, foreign_key="locality.id", index=True)
    department_id: str | None = Field(default=None, foreign_key="department.id", index=True)
    assignee_id: int | None = Field(default=None, foreign_key="caseworker.id", index=True)
    status: str = Field(default="new", max_length=20, index=True)
    kind: str = Field(default="request", max_length=20)  # request | contact (talk to a person)
    text: str = ""
    channel: str = Field(max_length=20)
    address: str = Field(max_length=120)
    language: str | None = Field(default=None, max_length=10)
    suggested_category_id: str | None = Field(default=None, max_length=60)
    suggested_score: float | None = None
    attachments: list = _json(list)
    latitude: float | None = None
    longitude: float | None = None
    duplicate_of_id: int | None = Field(default=None, foreign_key="request.id")
    resolution: str | None = None
    rating: int | None = None  # 1-5, given by the citizen at closure
    rating_comment: str | None = None
    digested_at: datetime | None = _when(default=None)  # when the department was told of it
    created_at: datetime = _when(default_factory=utcnow, index=True)
    updated_at: datetime = _when(default_factory=utcnow)
    first_response_at: datetime | None = _when(default=None)
    resolved_at: datetime | None = _when(default=None)
    closed_at: datetime | None = _when(default=None)


class RequestEvent(SQLModel, table=True):
    """One step in a request's life: who did what, when, from which status to which."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    at: datetime = _when(default_factory=utcnow)
    actor: str = Field(max_length=80)  # "citizen:12", "caseworker:3", "system"
    kind: str = Field(max_length=30)  # created | status | note | reply | assign | ...
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str | None = Field(default=None, max_length=20)
    note: str | None = None


class Message(SQLModel, table=True):
    """Every message, in or out, with where it stands.

    Inbound: ``received -> processed``, ``needs_attention`` (a flow failed
    or a person must listen; someone must look) or ``refused`` (a staff
    command from someone who is not staff). Outbound: ``queued -> sending ->
    sent -> delivered -> read``, or ``retry`` (with ``next_attempt_at``),
    ``held`` (WhatsApp's 24-hour window is closed and no template fits: it
    goes when the citizen writes again) and ``failed``, with the reason in
    ``error``. ``payload["template"]`` names the kind of message (``reply``,
    ``status``, ``broadcast``) and so the approved template to use.
    """

    # A channel's id for a delivery is unique per direction: redelivered
    # updates are recognised; Telegram's update ids and message ids may meet.
    __table_args__ = (UniqueConstraint("channel", "direction", "external_id", name="uq_message_external"),)

    id: int | None = Field(default=None, primary_key=True)
    direction: str = Field(max_length=3)  # in | out
    channel: str = Field(max_length=20)
    address: str = Field(max_length=120, index=True)
    external_id: str | None = Field(default=None, max_length=120)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    request_id: int | None = Field(default=None, foreign_key="request.id", index=True)
    text: str = ""
    payload: dict = _json()
    status: str = Field(max_length=20, index=True)
    error: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = _when(default=None, index=True)
    created_at: datetime = _when(default_factory=utcnow, index=True)
    sent_at: datetime | None = _when(default=None)
