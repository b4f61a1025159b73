"""The normalized messages every channel is translated to and from.

A channel adapter turns its own update (a Telegram ``Update``, a Twilio form
post, a line typed in the console) into one :class:`Incoming`; the engine
answers with :class:`Outgoing` messages, which each channel renders as it can.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Attachment:
    """A file the citizen sent. Only a reference is kept, never the bytes."""

    kind: str  # "photo", "voice", "audio", "video", "document", "sticker", "contact", ...
    ref: str  # the channel's file id or URL
    mime_type: str | None = None
    size: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    address: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class Incoming:
    """One message from a citizen (or a member of staff), whatever the channel.

    ``address`` names the conversation on its channel, e.g. ``telegram:123456``
    or ``whatsapp:+5492215550134``. ``external_id`` is the channel's own id for
    this delivery (Telegram's update id, Twilio's MessageSid); the store keeps
    it unique so a redelivered message is never processed twice.

    ``event`` carries what is not text: ``{"type": "button", "data": ...}`` for a
    pressed button, ``{"type": "unsupported", "kind": "sticker"}`` and so on.
    """

    channel: str
    address: str
    text: str = ""
    external_id: str | None = None
    received_at: datetime = field(default_factory=utcnow)
    name: str | None = None
    attachments: tuple[Attachment, ...] = ()
    location: Location | None = None
    event: dict[str, Any] | None = None
    language_hint: str | None = None  # e.g. Telegram's ``language_code``
    sender: str | None = None  # who wrote, where it differs from the chat (a staff group)
    private: bool = True  # a one-to-one chat with the bot, not a group
    originals: dict[str, str] | None = None  # fields a store would refuse, escaped (flows.storable)

    @property
    def author(self) -> str:
        """The person who wrote: the sender in a group, else the address."""
        return self.sender or self.address

    @property
    def button(self) -> str | None:
        """The data of a pressed button, if this message is a button press."""
        if self.event and self.event.get("type") == "button":
            return str(self.event.get("data", ""))
        return None


@dataclass(frozen=True)
class Choice:
    """One option offered to the citizen.

    ``key`` is what comes back when it is chosen (as button data, or matched
    from a typed reply); ``label`` is what the citizen sees.
    """

    key: str
    label: str


@dataclass(frozen=True)
class Outgoing:
    """One message to send. ``choices`` become buttons on Telegram and a
    numbered list on WhatsApp and the console; ``template`` names the approved
    WhatsApp template to use when the 24-hour window is closed; ``document``
    is a file to attach."""

    address: str
    text: str
    choices: tuple[Choice, ...] = ()
    template: str | None = None
    template_variables: dict[str, str] | None = None
    request_code: str | None = None
    menu_id: str | None = None  # identifies the menu the choices belong to
    # A file that goes with the text: a one-time token the channel's sender
    # turns into the file itself (Telegram) or a link to it (WhatsApp); see bot.privacy.
    document: str | None = None

    @property
    def channel(self) -> str:
        return self.address.split(":", 1)[0]
