"""What a channel's sender promises the outbox.

A sender turns one stored outbound message into the channel's API call and
says how it went, sorted so the outbox knows what to do next: ``sent``;
``retry`` (throttled, a server error, the network) after ``retry_after``;
``blocked`` (the citizen blocked the bot or opted out: stop this contact);
``held`` (it may not go out now, e.g. WhatsApp's 24-hour window is closed
and no template fits: it waits, with the reason, until the citizen writes);
``failed`` (anything else, with the reason).

``error`` is the full reason, for staff (it may quote the address);
``code`` is the channel's error code alone (``Twilio 20500 (HTTP 500)``,
``Forbidden``, ``ConnectError``): what the logs say, never personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flows.messages import Outgoing


@dataclass(frozen=True)
class SendResult:
    status: str  # sent | retry | blocked | held | failed
    external_id: str | None = None
    error: str | None = None
    retry_after: float | None = None
    code: str | None = None

    @classmethod
    def sent(cls, external_id: str | None = None) -> SendResult:
        return cls("sent", external_id)

    @classmethod
    def retry(cls, error: str, retry_after: float | None = None, code: str | None = None) -> SendResult:
        return cls("retry", error=error, retry_after=retry_after, code=code)

    @classmethod
    def blocked(cls, error: str, code: str | None = None) -> SendResult:
        return cls("blocked", error=error, code=code)

    @classmethod
    def held(cls, reason: str, code: str | None = None) -> SendResult:
        return cls("held", error=reason, code=code)

    @classmethod
    def failed(cls, error: str, code: str | None = None) -> SendResult:
        return cls("failed", error=error, code=code)


class Sender(Protocol):
    """A channel's way out. A sender that must look something up before a
    send (the WhatsApp window) may also have ``async prepare(message)``,
    returning the send itself as an awaitable callable: the outbox calls it
    before the channel's turn, so a turn is spent on sending alone."""

    channel: str
    per_second: float  # how many messages a second the channel accepts from us

    async def send(self, message: Outgoing) -> SendResult: ...
