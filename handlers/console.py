"""The console channel: talk to the bot as a citizen from a terminal.

Choices are shown as a numbered list (answer "2" or the words). Type
``/location LAT LON`` to share a location, ``/quit`` to leave.
"""

from __future__ import annotations

import re
import sys
import uuid
from typing import TextIO

from flows.messages import Incoming, Location, Outgoing
from notifications.senders import SendResult

CHANNEL = "console"
_LOCATION = re.compile(r"^/location\s+(-?\d+(?:\.\d+)?)[,\s]+(-?\d+(?:\.\d+)?)\s*$")


def to_incoming(line: str, user: str, language_hint: str | None = None) -> Incoming:
    """One typed line as a normalized message."""
    location = None
    if match := _LOCATION.match(line.strip()):
        location = Location(float(match.group(1)), float(match.group(2)))
        line = ""
    return Incoming(
        channel=CHANNEL,
        address=f"{CHANNEL}:{user}",
        text=line,
        external_id=uuid.uuid4().hex,
        name=user,
        location=location,
        language_hint=language_hint,
    )


def tolerant(lines: TextIO) -> TextIO:
    """``lines`` read so that bytes which are not UTF-8 — a long line the
    terminal cut in the middle of a character, a paste from elsewhere — come
    in as U+FFFD instead of ending the chat with a ``UnicodeDecodeError``."""
    if hasattr(lines, "reconfigure") and getattr(lines, "errors", None) not in ("replace", None):
        lines.reconfigure(errors="replace")
    return lines


def render(message: Outgoing) -> str:
    lines = [message.text]
    lines += [f"  {number}. {choice.label}" for number, choice in enumerate(message.choices, 1)]
    return "\n".join(lines)


class ConsoleSender:
    """Prints replies to a terminal (or any text stream)."""

    channel = CHANNEL
    per_second = 0.0  # no limit

    def __init__(self, out: TextIO | None = None, files=None):
        self.out = out or sys.stdout
        self.files = files  # token -> (file name, bytes), for a message's document (see bot.privacy)

    async def send(self, message: Outgoing) -> SendResult:
        print("\n" + render(message), file=self.out, flush=True)
        if message.document:
            file = self.files(message.document) if self.files else None
            if file is None:
                return SendResult.failed("the file is no longer available")
            name, body = file
            print(f"--- {name} ---\n{body.decode('utf-8')}\n--- end of {name} ---", file=self.out, flush=True)
        return SendResult.sent()
