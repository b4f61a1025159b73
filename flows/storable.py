"""What a store can keep: every incoming message is cleaned at the door.

PostgreSQL's ``text`` and ``jsonb`` refuse the NUL character, and no store
(nor the UTF-8 every channel speaks) can hold a lone surrogate, which is
what Python makes of bytes it could not decode — a console line cut in the
middle of a character, a broken client. One such character in a message, a
name or a file name used to lose the whole message: the transaction failed,
then storing it for a person failed the same way, and no apology went out.

So :func:`storable` cleans each :class:`~flows.messages.Incoming` once, where
every channel comes in (the engine, and the staff desk's own row), before a
flow or a store sees it:

- NUL and the other control characters (Unicode ``Cc``) except tab, newline
  and carriage return are removed: invisible, never meant, and refused by
  PostgreSQL (NUL) or by the XML and JSON some channels speak;
- a lone surrogate becomes U+FFFD, the replacement character, so a reader
  sees that something was there;
- a location whose coordinates are not numbers (NaN, infinity) is dropped:
  JSON cannot carry them and no map can show them.

The same goes for every string inside the message: the name, the sender,
file names and captions, location labels, button data. Nothing is lost
quietly: each field that changed is kept, escaped (``\\x00``, ``\\udc80``,
a backslash doubled), in ``Incoming.originals`` under its name (``text``,
``name``, ``attachments.0.name``, ``event.data``…), which the engine stores
in the message's payload beside the cleaned text.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Any

from flows.messages import Attachment, Incoming, Location

__all__ = ["storable", "storable_text", "escaped"]

_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ESCAPE = re.compile(r"[\\\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def storable_text(value: str) -> str:
    """``value`` without what a store refuses (see the module's docstring)."""
    if not _REFUSED.search(value):
        return value
    return _REFUSED.sub(lambda m: "\ufffd" if _SURROGATE.match(m.group()) else "", value)


def escaped(value: str) -> str:
    """A copy of ``value`` any store keeps and from which it can be restored:
    refused characters as ``\\xNN``/``\\uNNNN``, backslashes doubled."""
    return _ESCAPE.sub(_escape_one, value)


def _escape_one(match: re.Match) -> str:
    char = match.group()
    if char == "\\":
        return "\\\\"
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def storable(msg: Incoming) -> Incoming:
    """``msg`` with every string a store can keep; itself when it already is
    (the common case costs a few regular-expression searches)."""
    cleaner = _Cleaner(dict(msg.originals or {}))
    changes: dict[str, Any] = {}
    for name in ("text", "address", "external_id", "name", "language_hint", "sender", "event"):
        value = getattr(msg, name)
        if value is not None and (cleaned := cleaner.clean(name, value)) != value:
            changes[name] = cleaned
    if msg.attachments:
        attachments = tuple(cleaner.attachment(index, a) for index, a in enumerate(msg.attachments))
        if attachments != msg.attachments:
            changes["attachments"] = attachments
    if msg.location is not None and (location := cleaner.location(msg.location)) != msg.location:
        changes["location"] = location
    if not changes:
        return msg
    return replace(msg, **changes, originals=cleaner.originals)


class _Cleaner:
    """Cleans values field by field, noting the original of each it changed."""

    def __init__(self, originals: dict[str, str]):
        self.originals = originals

    def clean(self, name: str, value: Any) -> Any:
        if isinstance(value, str):
            cleaned = storable_text(value)
            if cleaned != value:
                self.originals[name] = escaped(value)
            return cleaned
        if isinstance(value, dict):
            return {self.clean(f"{name}.key", k) if isinstance(k, str) else k: self.clean(f"{name}.{k}", v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.clean(f"{name}.{i}", v) for i, v in enumerate(value))
        if isinstance(value, float) and not math.isfinite(value):
            self.originals[name] = repr(value)
            return None
        return value

    def attachment(self, index: int, attachment: Attachment) -> Attachment:
        prefix = f"attachments.{index}"
        return Attachment(
            kind=self.clean(f"{prefix}.kind", attachment.kind) or "document",
            ref=self.clean(f"{prefix}.ref", attachment.ref),
            mime_type=self.clean(f"{prefix}.mime_type", attachment.mime_type),
            size=attachment.size if isinstance(attachment.size, int) else None,
            name=self.clean(f"{prefix}.name", attachment.name),
        )

    def location(self, location: Location) -> Location | None:
        try:
            latitude, longitude = float(location.latitude), float(location.longitude)
        except (TypeError, ValueError):
            latitude = longitude = math.nan
        if not (math.isfinite(latitude) and math.isfinite(longitude)):
            self.originals["location"] = escaped(f"{location.latitude!r}, {location.longitude!r}")  # not a place
            return None
        return Location(latitude, longitude, self.clean("location.address", location.address), self.clean("location.label", location.label))
