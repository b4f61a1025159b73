"""Reading a Telegram update we can trust, or saying why not.

An update is read as python-telegram-bot reads the Bot API's schema
(``Update.de_json``); then every field the adapter reads
(:func:`handlers.telegram.to_incoming`) is checked for its type, because
``de_json`` trusts what it is given (``"text": 5`` stays a number,
``"chat": {"id": "x"}`` a string) and a wrong type would otherwise fail
later, after the sender was told we have it. What cannot be read raises
:class:`BadUpdate` with a short reason: a webhook answers 400 with it, the
poller skips the update; nothing of it is stored.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from telegram import Update, User

from flows.messages import Incoming
from handlers.telegram import to_incoming

MAX_REASON = 160


class BadUpdate(ValueError):
    """Not an update we can read; the text says why."""


def read_update(data: Any, bot) -> tuple[Update, Incoming | None]:
    """The update and its normalized message (None: nothing for us in it)."""
    if not isinstance(data, dict):
        raise BadUpdate("an update must be a JSON object")
    if not _integer(data.get("update_id")):
        raise BadUpdate("update_id must be an integer")
    try:
        update = Update.de_json(data, bot)
    except Exception as error:  # de_json raises whatever the bad field provokes
        raise BadUpdate(_reason("not a Telegram update", error)) from error
    _check_people(update)
    try:
        incoming = to_incoming(update)
    except Exception as error:
        raise BadUpdate(_reason("cannot read the update", error)) from error
    if incoming is not None:
        _check(incoming)
    return update, incoming


def _check_people(update: Update) -> None:
    """Who wrote and where: ids become addresses, names are stored."""
    query = update.callback_query
    message = update.message or update.edited_message or (query.message if query else None)
    if query is not None:
        _check_user(query.from_user, "callback_query.from")
    if message is not None and message.chat is not None:
        _need(_integer(message.chat.id), "chat.id must be an integer")
        _need(isinstance(message.chat.type, str), "chat.type must be a string")
    if message is not None and getattr(message, "from_user", None) is not None:
        _check_user(message.from_user, "message.from")
    contact = getattr(message, "contact", None)
    if contact is not None:
        _need(contact.user_id is None or _integer(contact.user_id), "contact.user_id must be an integer")


def _check_user(user: User | None, where: str) -> None:
    _need(user is not None, f"{where} is missing")
    _need(_integer(user.id), f"{where}.id must be an integer")
    _need(isinstance(user.first_name, str), f"{where}.first_name must be a string")
    for name in ("last_name", "language_code"):
        _need(_optional(getattr(user, name), str), f"{where}.{name} must be a string")


def _check(incoming: Incoming) -> None:
    _need(isinstance(incoming.text, str), "text and caption must be strings")
    _need(isinstance(incoming.received_at, datetime), "date must be a Unix time")
    for key, value in (incoming.event or {}).items():
        _need(isinstance(value, str), f"{key} must be a string")
    if (place := incoming.location) is not None:
        _need(_number(place.latitude) and abs(place.latitude) <= 90, "latitude must be a number from -90 to 90")
        _need(_number(place.longitude) and abs(place.longitude) <= 180, "longitude must be a number from -180 to 180")
        _need(_optional(place.address, str) and _optional(place.label, str), "venue address and title must be strings")
    for item in incoming.attachments:
        _need(isinstance(item.ref, str) and item.ref != "", f"{item.kind}: file_id must be a string")
        _need(_optional(item.mime_type, str) and _optional(item.name, str), f"{item.kind}: mime_type and file_name must be strings")
        _need(item.size is None or _integer(item.size), f"{item.kind}: file_size must be an integer")


def _need(condition: bool, reason: str) -> None:
    if not condition:
        raise BadUpdate(reason)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _optional(value: Any, kind: type) -> bool:
    return value is None or isinstance(value, kind)


def _reason(what: str, error: Exception) -> str:
    return f"{what}: {type(error).__name__}: {error}"[:MAX_REASON]
