"""The Telegram emulator bridge, proved with the real python-telegram-bot stack and no code of ours.

These test the test double, not the product: they count for nothing in the
product's coverage, and keep the emulator honest for the tests that do.

Each test runs a throw-away PTB application (its own token, so its own bot in the shared
emulator), drives it as a citizen would and checks what the citizen sees. Any error PTB hits
(a response it cannot parse, a failed getUpdates, a handler exception) fails the test.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from dataclasses import dataclass, field

import httpx
import pytest
from telegram import (BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, MenuButtonCommands,
                      Message, Update)
from telegram.constants import ChatAction
from telegram.ext import (Application, CallbackQueryHandler, CommandHandler, ContextTypes,
                          MessageHandler, TypeHandler, filters)

from tests.telegram_emulator import TelegramEmulator

USER_ID = 4242


@dataclass
class RunningBot:
    app: Application
    token: str
    updates: list[Update] = field(default_factory=list)  # every update PTB handed to handlers
    errors: list[object] = field(default_factory=list)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text("What do you need?", reply_markup=InlineKeyboardMarkup([[
        InlineKeyboardButton("Apply", callback_data="apply"),
        InlineKeyboardButton("Status", callback_data="status"),
    ]]))


async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert await query.answer() is True  # an error in a handler fails the test (see `bot`)
    edited = await query.edit_message_text(f"You chose {query.data}")
    assert isinstance(edited, Message) and edited.text == f"You chose {query.data}"
    await context.bot.send_message(update.effective_chat.id, "Thanks, we are on it")


async def locate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = update.message.location
    await update.message.reply_text(f"Nearest office to {where.latitude:.2f},{where.longitude:.2f}")


async def thank_for_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(f"We will call {update.message.contact.phone_number}")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(f"echo: {update.message.text}")


@pytest.fixture
async def bot(telegram_emulator: TelegramEmulator):
    """A polling PTB application pointed at the emulator, stopped after the test."""
    token = telegram_emulator.new_token()
    app = (Application.builder().token(token).base_url(telegram_emulator.api_url)
           .base_file_url(telegram_emulator.file_url).build())
    running = RunningBot(app, token)

    async def remember(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        running.updates.append(update)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        running.errors.append(context.error)

    app.add_handler(TypeHandler(Update, remember), group=-1)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(choose))
    app.add_handler(MessageHandler(filters.LOCATION, locate))
    app.add_handler(MessageHandler(filters.CONTACT, thank_for_contact))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_error_handler(on_error)
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0.05, error_callback=running.errors.append)
    try:
        yield running
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert not running.errors, f"python-telegram-bot hit errors: {running.errors!r}"


@pytest.fixture
def citizen(telegram_emulator: TelegramEmulator, bot: RunningBot):
    return telegram_emulator.user(bot.token, USER_ID, first_name="Ann", language_code="en")


async def test_get_me_gives_a_complete_bot_user(bot: RunningBot) -> None:
    me = bot.app.bot.bot
    assert (me.id, me.is_bot, me.username) == (int(bot.token.split(":")[0]), True, "TestNameBot")


async def test_start_command_shows_an_inline_keyboard(bot: RunningBot, citizen) -> None:
    await citizen.send("/start")

    menu = await citizen.wait_for("What do you need?")

    assert [(b["text"], b["callback_data"]) for b in menu.buttons] == [
        ("Apply", "apply"), ("Status", "status")]
    command = bot.updates[0].message
    assert command.text == "/start" and command.chat.type == "private"
    assert command.from_user.first_name == "Ann" and not command.from_user.is_bot
    assert abs(command.date - dtm.datetime.now(dtm.UTC)) < dtm.timedelta(minutes=1)


async def test_pressing_a_button_edits_the_message_and_replies(
        telegram_emulator: TelegramEmulator, bot: RunningBot, citizen) -> None:
    await citizen.send("/start")
    menu = await citizen.wait_for("What do you need?")

    await citizen.press("apply")

    edited = await citizen.wait_for("You chose apply")
    assert edited.message_id == menu.message_id and edited.edited
    assert edited.buttons == []  # an edit without reply_markup removes the keyboard, as on Telegram
    await citizen.wait_for("Thanks, we are on it")
    assert [m.text for m in await citizen.messages()] == ["You chose apply", "Thanks, we are on it"]
    query = bot.updates[-1].callback_query
    assert query.message.message_id == menu.message_id and query.chat_instance
    assert await telegram_emulator.calls(bot.token, "answerCallbackQuery")


async def test_each_message_is_handled_exactly_once(bot: RunningBot, citizen) -> None:
    await citizen.send("hello")
    await citizen.send("hello")
    await citizen.send("bye")

    await citizen.wait_for("echo: hello")
    await citizen.wait_for("echo: hello")
    await citizen.wait_for("echo: bye")
    await asyncio.sleep(0.3)  # several polls: a duplicated update would be handled by now

    assert [m.text for m in await citizen.messages()] == ["echo: hello", "echo: hello", "echo: bye"]
    ids = [update.update_id for update in bot.updates]
    assert ids == sorted(set(ids)) and len(ids) == 3


async def test_a_shared_location_and_contact_reach_the_bot(bot: RunningBot, citizen) -> None:
    await citizen.share_location(41.3275, 19.8187)
    await citizen.wait_for("Nearest office to 41.33,19.82")

    await citizen.share_contact("+355691234567")
    await citizen.wait_for("We will call +355691234567")


async def test_commands_menu_and_chat_action_are_accepted(
        telegram_emulator: TelegramEmulator, bot: RunningBot) -> None:
    commands = [BotCommand("start", "Start over"), BotCommand("help", "What I can do")]

    assert await bot.app.bot.set_my_commands(commands) is True
    assert await bot.app.bot.get_my_commands() == tuple(commands)
    assert await bot.app.bot.send_chat_action(USER_ID, ChatAction.TYPING) is True
    assert await bot.app.bot.set_chat_menu_button(USER_ID, MenuButtonCommands()) is True
    assert await bot.app.bot.delete_my_commands() is True
    assert await bot.app.bot.get_my_commands() == ()

    recorded = await telegram_emulator.calls(bot.token, "setMyCommands")
    assert recorded[0]["params"]["commands"] == [c.to_dict() for c in commands]


async def test_uploads_json_requests_and_downloads(
        telegram_emulator: TelegramEmulator, bot: RunningBot, citizen) -> None:
    sent = await bot.app.bot.send_document(USER_ID, b"receipt 17", filename="receipt.txt",
                                           caption="Your receipt")  # multipart/form-data
    seen = await citizen.wait_for("Your receipt")
    assert seen.raw["document"]["file_name"] == "receipt.txt"
    file = await bot.app.bot.get_file(sent.document.file_id)
    assert await file.download_as_bytearray() == b"receipt 17"

    async with httpx.AsyncClient(trust_env=False) as client:  # a JSON body, as other clients send
        answer = await client.post(f"{telegram_emulator.api_url}{bot.token}/sendMessage",
                                   json={"chat_id": USER_ID, "text": "as JSON"})
    message = Message.de_json(answer.json()["result"], bot.app.bot)
    assert (message.text, message.chat.id, message.from_user.is_bot) == ("as JSON", USER_ID, True)
    await citizen.wait_for("as JSON")


async def test_get_updates_honours_offset_and_long_polls(telegram_emulator: TelegramEmulator) -> None:
    """Raw getUpdates, without an updater: Telegram's semantics, which the updater relies on."""
    token = telegram_emulator.new_token()
    app = Application.builder().token(token).base_url(telegram_emulator.api_url).build()
    citizen = telegram_emulator.user(token, USER_ID)
    async with app:
        await citizen.send("one")
        first = await app.bot.get_updates(timeout=5)
        assert [u.message.text for u in first] == ["one"]
        again = await app.bot.get_updates(timeout=5)  # not confirmed yet: handed again
        assert [u.update_id for u in again] == [first[0].update_id]

        started = time.monotonic()
        assert await app.bot.get_updates(offset=first[0].update_id + 1, timeout=5) == ()
        assert 0.5 < time.monotonic() - started < 3  # waited, but capped well below 5s

        started = time.monotonic()
        poll = asyncio.create_task(app.bot.get_updates(offset=first[0].update_id + 1, timeout=5))
        await asyncio.sleep(0.2)
        await citizen.send("two")
        assert [u.message.text for u in await poll] == ["two"]
        assert time.monotonic() - started < 0.9  # answered as soon as the update arrived
