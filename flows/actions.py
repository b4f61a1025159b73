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
class NamePlace:
    """The citizen named a place that is not in the list, under the district
    ``parent_id``: kept for staff to add to the catalogue."""

    name: str
    parent_id: str | None


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


@dataclass(frozen=True)
class SetBroadcastOptOut:
    """Stop (``True``) or resume (``False``) announcements to this citizen.
    Answers about their own requests reach them either way."""

    opted_out: bool


@dataclass(frozen=True)
class LinkPhone:
    """The citizen proved they own a phone number: join them with whoever
    writes from it (``addresses``: the same number as each channel may
    write it, the usual form first), or register it for them."""

    addresses: tuple[str, ...]


@dataclass(frozen=True)
class ConfirmResolved:
    """The citizen answered "was your request resolved?" (``comment``: what
they wrote after their yes or no, if anything)."""

    code: str
    resolved: bool
    comment: str | None = None


@dataclass(frozen=True)
class RateRequest:
    code: str
    rating: int | None = None
    comment: str | None = None


@dataclass(frozen=True)
class AnswerRequest:
    """The citizen's answer to a caseworker's question about a request."""

    code: str
    text: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class EraseAfterRefusal:
    """The citizen declined to let us keep their data: delete what was kept
    (name, place, the words of their messages), keeping only the refusal."""


@dataclass(frozen=True)
class SendMyData:
    """Send the citizen a file with everything we keep about them: the
    reply whose ``document`` is :attr:`PLACEHOLDER` carries it."""

    PLACEHOLDER = "my-data"


@dataclass(frozen=True)
class ForgetMe:
    """Erase the citizen: personal data removed, requests anonymized (kept
    for statistics, their staff told), channels no longer lead to them."""


@dataclass(frozen=True)
class KeepNoWords:
    """The citizen refused consent: store this message without its words."""


PRIVACY_ACTIONS = (EraseAfterRefusal, SendMyData, ForgetMe, KeepNoWords)

@dataclass(frozen=True)
class BookVisit:
    """Book the citizen a place for ``service_id`` at a visit. The reply
    that announces it carries :attr:`NUMBER` where the queue number goes:
    the number is only known once the place is taken, in the transaction."""

    NUMBER = "⟪№⟫"

    visit_id: int
    service_id: str


@dataclass(frozen=True)
class CancelBooking:
    booking_id: int


@dataclass(frozen=True)
class SubscribeVisits:
    """Tell the citizen of every visit to ``locality_id`` (``on``), or stop."""

    locality_id: str
    on: bool


@dataclass(frozen=True)
class NoteQuestion:
    """The citizen asked about a service (None: about visits): demand, for planners."""

    service_id: str | None
    visit_scheduled: bool


Action = (SetLanguage | SetLocality | NamePlace | SetConsent | SubmitRequest | FlagForPerson | SetBroadcastOptOut | LinkPhone | ConfirmResolved | RateRequest | AnswerRequest | EraseAfterRefusal | SendMyData | ForgetMe | KeepNoWords
          | BookVisit | CancelBooking | SubscribeVisits | NoteQuestion)

__all__ = ["Action", "SetLanguage", "SetLocality", "SetConsent", "SubmitRequest", "FlagForPerson"]
