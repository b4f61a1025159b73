"""Where requests come from and what they are about: places, categories, departments."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models.base import json_field, utcnow, when


class Locality(SQLModel, table=True):
    """Region > district > village (or makhalla, or Argentine localidad)."""

    id: str = Field(primary_key=True, max_length=80)
    kind: str = Field(max_length=20)  # region | district | village
    parent_id: str | None = Field(default=None, foreign_key="locality.id", index=True)
    country: str = Field(max_length=2)
    names: dict = json_field()
    latitude: float | None = None
    longitude: float | None = None
    position: int = 0
    sample: bool = False


class NamedPlace(SQLModel, table=True):
    """A place a citizen named because it is not in the list ("my village is
    not listed"), under the district they chose: for staff to add to the
    catalogue (``/places``)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    parent_id: str | None = Field(default=None, foreign_key="locality.id", index=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    created_at: datetime = when(default_factory=utcnow)


class Department(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=60)
    name: str = Field(max_length=200)
    names: dict = json_field()  # the name in each language, for citizens
    assignment: str = Field(default="manual", max_length=20)  # manual | round_robin


class Category(SQLModel, table=True):
    """A standard request category of the catalogue."""

    id: str = Field(primary_key=True, max_length=60)
    names: dict = json_field()
    descriptions: dict = json_field()
    keywords: dict = json_field()
    position: int = 0
    active: bool = True
