"""A citizen talking to the engine, for tests that read like a conversation."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from flows.messages import Attachment, Incoming, Location, Outgoing
from flows.i18n import LANGUAGES
from flows.router import button_data

# A first message in each language: the bot greets in the language it is written in.
GREETINGS = {"en": "hello", "ru": "Здравствуйте", "es": "hola", "uz": "Assalomu alaykum", "uz-Cyrl": "Ассалому алайкум"}

_ids = itertools.count(1)


@dataclass
class Chat:
    engine: object
    user: str = "ana"
    channel: str = "console"
    language_hint: str | None = None
    name: str | None = None  # the name the channel shows; the user's by default
    replies: list[Outgoing] = field(default_factory=list)
    handled: object = None

    @property
    def address(self) -> str:
        return f"{self.channel}:{self.user}"

    def send(self, text: str = "", **fields) -> list[Outgoing]:
        msg = Incoming(
            channel=self.channel,
            address=self.address,
            text=text,
            external_id=fields.pop("external_id", f"{self.user}-{next(_ids)}"),
            name=self.name or self.user,
            language_hint=self.language_hint,
            **fields,
        )
        return self.deliver(msg)

    def deliver(self, msg: Incoming) -> list[Outgoing]:
        self.handled = self.engine.handle(msg)
        self.replies = self.handled.replies
        _take_from_outbox(self.engine.database, self.address)  # these replies are what the chat sees now
        return self.replies

    def press(self, label: str) -> list[Outgoing]:
        """Press the button whose label (or key) contains ``label`` on the latest menu."""
        menu = next(r for r in reversed(self.replies) if r.choices)
        choice = next(c for c in menu.choices if label.lower() in c.label.lower() or label == c.key)
        return self.send(event={"type": "button", "data": button_data(int(menu.menu_id), choice.key)})

    def share_location(self, latitude: float, longitude: float) -> list[Outgoing]:
        return self.send(location=Location(latitude, longitude))

    def send_file(self, kind: str, ref: str = "file-1", text: str = "") -> list[Outgoing]:
        return self.send(text, attachments=(Attachment(kind, ref),))

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    @property
    def choices(self) -> list[str]:
        menu = next((r for r in reversed(self.replies) if r.choices), None)
        return [c.label for c in menu.choices] if menu else []

    def onboard(self, language: str = "English", *places: str) -> None:
        """The usual first minute: hello in ``language``, a place, consent."""
        self.send(GREETINGS[next(code for code, label in LANGUAGES.items() if language.lower() in label.lower())])
        if language in self.choices:  # the list of languages
            self.press(language)
        else:  # greeted in that language, with a way to pick another
            assert any("🌐" in label for label in self.choices), self.text
        for place in places or ("Sirdaryo", "Guliston", None):
            if place is None:
                self.press(self.choices[0])
            else:
                self.press(place)
        self.press("yes")


def pushed(database, chat: Chat) -> list[Outgoing]:
    """Messages queued for ``chat`` outside its own turns (status pushes,
    replies from staff), taken off the outbox as a sender would; they become
    the chat's latest replies, so their buttons can be pressed."""
    chat.replies = _take_from_outbox(database, chat.address)
    return chat.replies


def _take_from_outbox(database, address: str) -> list[Outgoing]:
    from sqlmodel import select

    from notifications.outbox import to_outgoing
    from storage.db import session_scope
    from storage.models import Message

    with session_scope(database) as session:
        rows = session.exec(select(Message).where(Message.address == address, Message.direction == "out", Message.status == "queued").order_by(Message.id)).all()
        for row in rows:
            row.status = "sent"
            session.add(row)
        return [to_outgoing(row) for row in rows]
