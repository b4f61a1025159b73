"""Saved Telegram updates -> the normalized message, and outgoing messages ->
what python-telegram-bot is asked to send."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from telegram import Bot, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from flows.messages import Attachment, Choice, Location, Outgoing
from handlers.telegram import MAX_CALLBACK_BYTES, TelegramSender, keyboard, to_incoming

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"
BOT = Bot("123456:TEST")


def update(name: str) -> Update:
    return Update.de_json(json.loads((FIXTURES / f"{name}.json").read_text("utf-8")), BOT)


def test_a_text_message():
    msg = to_incoming(update("text"))
    assert (msg.channel, msg.address, msg.text, msg.external_id) == ("telegram", "telegram:5550101", "Mahallamizda svet yo'q", "900000001")
    assert msg.name == "Dilnoza Karimova" and msg.language_hint == "uz"
    assert msg.received_at == datetime.fromtimestamp(1763700000, timezone.utc)


def test_a_photo_keeps_the_largest_size_and_the_caption_as_text():
    msg = to_incoming(update("photo"))
    assert msg.text == "Yo'l buzilgan"
    assert msg.attachments == (Attachment("photo", "AgACAgIAAxkBAAIBlarge", "image/jpeg", 81234),)


@pytest.mark.parametrize("name, kind, ref", [("voice", "voice", "AwACAgIAAxkBAAIBvoice"), ("document", "document", "BQACAgIAAxkBAAIBdoc"), ("contact", "contact", "+998901234567")])
def test_files_and_contacts_become_attachments(name, kind, ref):
    (attachment,) = to_incoming(update(name)).attachments
    assert (attachment.kind, attachment.ref) == (kind, ref)


def test_a_location():
    assert to_incoming(update("location")).location == Location(40.489712, 68.784201)


def test_a_sticker_is_marked_unsupported():
    msg = to_incoming(update("sticker"))
    assert msg.event == {"type": "unsupported", "kind": "sticker"} and msg.text == ""


def test_a_pressed_button():
    msg = to_incoming(update("callback_query"))
    assert msg.button == "1|lang:uz" and msg.address == "telegram:5550101" and msg.external_id == "900000008"


def test_an_edited_message_is_taken_as_a_new_message():
    assert to_incoming(update("edited_message")).text == "Mahallamizda 3 kundan beri svet yo'q"


def test_updates_that_are_not_a_citizen_talking_are_ignored():
    assert to_incoming(update("my_chat_member")) is None


def test_choices_become_buttons_that_name_their_menu():
    markup = keyboard(Outgoing("telegram:1", "?", (Choice("yes", "Ha"), Choice("no", "Yo'q")), menu_id="7"))
    assert [[b.callback_data for b in row] for row in markup.inline_keyboard] == [["7|yes"], ["7|no"]]


def test_every_button_of_the_catalogue_fits_in_telegrams_64_bytes(catalog):
    keys = [f"loc:{place}" for place in catalog.localities] + [f"cat:{c.id}" for c in catalog.categories]
    for key in keys:
        markup = keyboard(Outgoing("telegram:1", "?", (Choice(key, "x"),), menu_id="999999"))
        assert len(markup.inline_keyboard[0][0].callback_data.encode()) <= MAX_CALLBACK_BYTES


class FakeBot:
    """Raises what python-telegram-bot raises for each Bot API answer."""

    def __init__(self, error=None):
        self.error, self.calls = error, []

    async def send_message(self, chat_id, text, reply_markup=None):
        self.calls.append((chat_id, text, reply_markup))
        if self.error:
            raise self.error
        return type("Sent", (), {"message_id": len(self.calls)})()


@pytest.mark.parametrize(
    "error, status",
    [
        (RetryAfter(12), "retry"),
        (TimedOut(), "retry"),
        (NetworkError("Bad Gateway"), "retry"),
        (Forbidden("Forbidden: bot was blocked by the user"), "blocked"),
        (BadRequest("Bad Request: chat not found"), "failed"),
    ],
)
async def test_send_errors_are_sorted(error, status):
    result = await TelegramSender(FakeBot(error)).send(Outgoing("telegram:5", "hello"))
    assert result.status == status
    if isinstance(error, RetryAfter):
        assert result.retry_after == 12


async def test_a_long_text_is_split_and_the_buttons_go_with_the_last_piece():
    bot = FakeBot()
    text = ("Bu juda uzun xabar. " * 400).strip()
    result = await TelegramSender(bot).send(Outgoing("telegram:5", text, (Choice("yes", "Ha"),), menu_id="2"))
    assert result.status == "sent" and result.external_id == "5:2"
    assert len(bot.calls) == 2 and all(len(t) <= 4096 for _, t, _ in bot.calls)
    assert bot.calls[0][2] is None and bot.calls[1][2] is not None
