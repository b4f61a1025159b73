"""What a flow asks the engine to do. The engine performs these inside the
same transaction that stores the message and the replies."""

from __future__ import annotations

from dataclasses import dataclass

from flows.messages import Attachment


@dataclass(frozen=True)
class SetLanguage:
    language: str


@dataclass(frozen=True)
class SetLocality:
    locality_id: str


@dataclass(frozen=True)
class SetConsent:
    consent: bool


@dataclass(frozen=True)
class SubmitRequest:
    """File a request under ``code``. ``kind`` is ``request`` or ``contact``
    (the citizen asked to talk to a person)."""

    code: str
    category_id: str
    text: str
    kind: str = "request"
    suggested_category_id: str | None = None
    suggested_score: float | None = None
    attachments: tuple[Attachment, ...] = ()
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class FlagForPerson:
    """Mark the incoming message for a person's attention (something the bot
    cannot handle, such as a voice note it cannot read)."""

    reason: str


Action = SetLanguage | SetLocality | SetConsent | SubmitRequest | FlagForPerson

__all__ = ["Action", "SetLanguage", "SetLocality", "SetConsent", "SubmitRequest", "FlagForPerson"]
