"""Requests and the record of every step in their life."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models.base import json_field, utcnow, when


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
    attachments: list = json_field(list)
    latitude: float | None = None
    longitude: float | None = None
    duplicate_of_id: int | None = Field(default=None, foreign_key="request.id")
    # Neighbours reporting one problem: every report of the group points at its first (the case staff work).
    group_id: int | None = Field(default=None, foreign_key="request.id", index=True)
    resolution: str | None = None
    rating: int | None = None  # 1-5, given by the citizen at closure
    rating_comment: str | None = None
    digested_at: datetime | None = when(default=None)  # when the department was told of it
    created_at: datetime = when(default_factory=utcnow, index=True)
    updated_at: datetime = when(default_factory=utcnow)
    first_response_at: datetime | None = when(default=None)
    resolved_at: datetime | None = when(default=None)
    closed_at: datetime | None = when(default=None)
    # Personal data removed (the citizen asked, or the retention period ran out); the row stays for statistics.
    anonymized_at: datetime | None = when(default=None, index=True)
    # A row of an old spreadsheet (``onewindow import requests``): the same row is imported once.
    import_key: str | None = Field(default=None, max_length=40, unique=True)


class RequestEvent(SQLModel, table=True):
    """One step in a request's life: who did what, when, from which status to which."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    at: datetime = when(default_factory=utcnow)
    actor: str = Field(max_length=80)  # "citizen:12", "caseworker:3", "system"
    kind: str = Field(max_length=30)  # created | status | note | reply | assign | ...
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str | None = Field(default=None, max_length=20)
    note: str | None = None
