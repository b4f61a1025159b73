"""The Telegram channel, through python-telegram-bot.

Inbound: every ``Update`` becomes one :class:`~flows.messages.Incoming`
(keyed by the update id) handed to the engine, once stored
(:mod:`handlers.telegram_inbox`; reading and checking an update:
:mod:`handlers.telegram_updates`). Outbound: the outbox calls
:class:`TelegramSender`, which renders choices as inline buttons whose data
names the menu they belong to, so a stale button can be recognised.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application

from flows.messages import Attachment, Incoming, Location, Outgoing
from flows.router import button_data
from handlers.textsplit import split_text
from notifications.senders import SendResult

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_BYTES = 64
UNSUPPORTED = ("sticker", "animation", "dice", "poll", "game", "story", "invoice", "video_note")


def address_of(chat_id: int) -> str:
    return f"{CHANNEL}:{chat_id}"


def to_incoming(update: Update) -> Incoming | None:
    """The normalized message for ``update``, or None for updates that are
    not a citizen talking to us (a bot added to a group, a poll closing...)."""
    external_id = str(update.update_id)
    if query := update.callback_query:
        chat_id = query.message.chat.id if query.message else query.from_user.id
        chat = query.message.chat if query.message else None
        return Incoming(
            channel=CHANNEL,
            address=address_of(chat_id),
            external_id=external_id,
            name=query.from_user.full_name,
            event={"type": "button", "data": query.data or ""},
            language_hint=query.from_user.language_code,
            sender=address_of(query.from_user.id),
            private=chat is None or chat.type == "private",
        )
    message = update.message or update.edited_message
    if message is None or message.chat is None:
        return None
    user = message.from_user
    return Incoming(
        channel=CHANNEL,
        address=address_of(message.chat.id),
        text=message.text or message.caption or "",
        external_id=external_id,
        received_at=message.date,
        name=user.full_name if user else None,
        attachments=_attachments(message),
        location=_location(message),
        event=_event(message),
        language_hint=user.language_code if user else None,
        sender=address_of(user.id) if user else None,
        private=message.chat.type == "private",
    )


def _attachments(message: Message) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    if message.photo:
        largest = message.photo[-1]
        found.append(Attachment("photo", largest.file_id, "image/jpeg", largest.file_size))
    for kind in ("voice", "audio", "video", "document"):
        media = getattr(message, kind)
        if media is not None:
            found.append(Attachment(kind, media.file_id, getattr(media, "mime_type", None), media.file_size, getattr(media, "file_name", None)))
    if message.contact:
        found.append(Attachment("contact", message.contact.phone_number, name=message.contact.first_name))
    return tuple(found)


def _location(message: Message) -> Location | None:
    if message.venue:
        v = message.venue
        return Location(v.location.latitude, v.location.longitude, v.address, v.title)
    if message.location:
        return Location(message.location.latitude, message.location.longitude)
    return None


def _event(message: Message) -> dict | None:
    contact, user = message.contact, message.from_user
    if contact and user and contact.user_id == user.id:
        # Telegram vouches the number is the sender's own: it may link channels (flows.linking).
        return {"type": "own_contact", "phone": contact.phone_number}
    kind = next((k for k in UNSUPPORTED if getattr(message, k, None)), None)
    return {"type": "unsupported", "kind": kind} if kind else None


def keyboard(message: Outgoing) -> InlineKeyboardMarkup | None:
    """One button a row, two where the labels are short."""
    if not message.choices:
        return None
    buttons = []
    for choice in message.choices:
        data = button_data(int(message.menu_id or 0), choice.key)
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"button data longer than Telegram allows: {data!r}")
        buttons.append(InlineKeyboardButton(choice.label, callback_data=data))
    width = 2 if all(len(c.label) <= 16 for c in message.choices) and len(buttons) > 3 else 1
    return InlineKeyboardMarkup([buttons[i : i + width] for i in range(0, len(buttons), width)])


SEND_CONNECTIONS = 8


class TelegramSender:
    channel = CHANNEL
    per_second = 29.5  # Telegram allows 30 a second per bot: 29 in any second, with a margin for the network

    @staticmethod
    def chat_pace(address: str) -> tuple[float, int]:
        """Seconds between messages to one chat, and how many may go at
        once: a person gets a reply of up to three messages at once and then
        one a second; a group or channel (negative ids) twenty a minute."""
        return (1.0, 3) if not address.split(":", 1)[1].startswith("-") else (3.0, 1)

    def __init__(self, bot, files: Callable[[str], tuple[str, bytes] | None] | None = None, per_second: float | None = None):
        self.bot = bot
        if per_second is not None:
            self.per_second = per_second
        # token -> (file name, bytes): builds a message's document (see bot.privacy); reads the store.
        self.files = files

    async def send(self, message: Outgoing) -> SendResult:
        chat_id = int(message.address.split(":", 1)[1])
        pieces = split_text(message.text, MAX_TEXT)
        try:
            if message.document:
                return await self._send_document(chat_id, message)
            sent = None
            for number, piece in enumerate(pieces, 1):
                markup = keyboard(message) if number == len(pieces) else None
                sent = await self.bot.send_message(chat_id, piece, reply_markup=markup)
            # Telegram numbers messages per chat: chat and number make the id.
            return SendResult.sent(f"{chat_id}:{sent.message_id}" if sent else None)
        except RetryAfter as error:
            return SendResult.retry(str(error), retry_after_seconds(error), code="RetryAfter (HTTP 429)")
        except Forbidden as error:
            return SendResult.blocked(str(error), "Forbidden (HTTP 403)")
        except BadRequest as error:  # a subclass of NetworkError: sort it first
            return SendResult.failed(f"{type(error).__name__}: {error}", "BadRequest (HTTP 400)")
        except (TimedOut, NetworkError) as error:
            return SendResult.retry(f"{type(error).__name__}: {error}", code=type(error).__name__)
        except (TelegramError, ValueError) as error:
            return SendResult.failed(f"{type(error).__name__}: {error}", type(error).__name__)


    async def _send_document(self, chat_id: int, message: Outgoing) -> SendResult:
        """The file uploaded as a document, the text as its caption."""
        file = await asyncio.to_thread(self.files, message.document) if self.files else None
        if file is None:
            return SendResult.failed("the file is no longer available")
        name, body = file
        sent = await self.bot.send_document(
            chat_id, InputFile(body, filename=name), caption=message.text[:MAX_CAPTION] or None, reply_markup=keyboard(message),
        )
        return SendResult.sent(f"{chat_id}:{sent.message_id}")


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the type will become timedelta
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def build_application(token: str, api_base: str) -> Application:
    """The python-telegram-bot application: its bot sends the replies and
    reads updates; the updates themselves come through
    :class:`handlers.telegram_inbox.TelegramInbox` (webhook or long polling),
    which stores each before Telegram is told we have it.

    ``api_base`` is Telegram's own server or a local Bot API server/emulator.
    """
    builder = Application.builder().token(token).base_url(f"{api_base}/bot").base_file_url(f"{api_base}/file/bot")
    # The outbox sends at most 30 a second: a few connections carry that, and
    # a pool of hundreds is walked on every request (bench/broadcast.py).
    builder = builder.connection_pool_size(SEND_CONNECTIONS).pool_timeout(30.0)
    return builder.updater(None).build()
