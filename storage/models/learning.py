"""What the classifier learns from the people who work the queue."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models.base import utcnow, when


class CategoryCorrection(SQLModel, table=True):
    """A caseworker put a request in another category: its text becomes an
    example for the right one. Removing it (``removed_at``) takes it back."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int | None = Field(default=None, foreign_key="request.id", index=True)
    text: str
    category_id: str = Field(foreign_key="category.id")
    previous_category_id: str | None = Field(default=None, max_length=60)
    created_by: int | None = Field(default=None, foreign_key="caseworker.id")
    created_at: datetime = when(default_factory=utcnow)
    removed_at: datetime | None = when(default=None)
    removed_by: int | None = Field(default=None, foreign_key="caseworker.id")
