"""Mobile-unit visits: a unit at a locality on a day, the citizens who
booked a place at it, those who want to hear of every visit to their
locality, and the service questions planners count as demand."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.base import json_field, utcnow, when


class Visit(SQLModel, table=True):
    """A mobile unit at ``locality_id`` from ``starts_at`` to ``ends_at``
    (UTC), bringing ``services``; ``limits`` caps the places per service
    (a service not named there has no cap)."""

    __table_args__ = (UniqueConstraint("locality_id", "starts_at", name="uq_visit_place_time"),)

    id: int | None = Field(default=None, primary_key=True)
    locality_id: str = Field(foreign_key="locality.id", index=True, max_length=80)
    starts_at: datetime = when(index=True)
    ends_at: datetime = when()
    services: list = json_field(list)
    limits: dict = json_field()
    status: str = Field(default="planned", max_length=20)  # planned | cancelled
    note: str | None = Field(default=None, max_length=500)
    created_by: str = Field(default="system", max_length=80)
    created_at: datetime = when(default_factory=utcnow)
    updated_at: datetime = when(default_factory=utcnow)


class Booking(SQLModel, table=True):
    """A citizen's place in the queue at a visit, for one service."""

    __table_args__ = (UniqueConstraint("visit_id", "number", name="uq_booking_number"),)

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    address: str | None = Field(default=None, max_length=120)  # where the citizen asked, for notices
    service_id: str = Field(max_length=80)
    number: int
    status: str = Field(default="booked", max_length=20)  # booked | cancelled | came
    created_at: datetime = when(default_factory=utcnow)
    updated_at: datetime = when(default_factory=utcnow)


class VisitSubscription(SQLModel, table=True):
    """Tell this citizen of every visit to this locality (and remind them)."""

    __table_args__ = (UniqueConstraint("citizen_id", "locality_id", name="uq_subscription"),)

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    locality_id: str = Field(foreign_key="locality.id", index=True, max_length=80)
    address: str = Field(max_length=120)
    created_at: datetime = when(default_factory=utcnow)


class ServiceQuestion(SQLModel, table=True):
    """A citizen asked about a service (or about visits, ``service_id`` None)
    from a locality: the planners' measure of what people need."""

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    locality_id: str | None = Field(default=None, foreign_key="locality.id", index=True, max_length=80)
    service_id: str | None = Field(default=None, max_length=80)
    visit_scheduled: bool = False  # was a visit bringing it already planned when asked
    asked_at: datetime = when(default_factory=utcnow)
