"""Pytest plugin: end-to-end tests against an emulated Telegram.

The session fixture ``telegram_emulator`` runs ``tests/emulator/server.js`` (telegram-test-api
plus our bridge that makes it speak the Bot API the way python-telegram-bot 22 expects). A bot
under test points its ``base_url``/``base_file_url`` at it; a test then plays the citizen with
:class:`TelegramUser`, so that it reads like a conversation::

    citizen = telegram_emulator.user(token, user_id=42, first_name="Ann")
    await citizen.send("/start")
    menu = await citizen.wait_for("What do you need?")
    await citizen.press("apply")
    await citizen.wait_for("Your application")

The emulator lives for the whole session: give each test its own bot token
(:meth:`TelegramEmulator.new_token`) so that tests never see each other's messages.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import select
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

EMULATOR_DIR = Path(__file__).resolve().parent / "emulator"
STARTUP_TIMEOUT = 20.0  # seconds for `node server.js` to print READY
POLL_INTERVAL = 0.03  # seconds between two looks at the bot's messages in wait_for


@dataclass(frozen=True)
class BotMessage:
    """A message from the bot as the user sees it (its latest state at that moment)."""

    message_id: int
    text: str | None  # the text, or the caption of a document/photo
    reply_markup: dict[str, Any] | None  # inline or reply keyboard, as sent by the bot
    edited: bool
    raw: dict[str, Any] = field(repr=False)  # the Telegram Message JSON
    seq: int = field(repr=False, default=0)  # order of arrival in the emulator

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """All keyboard buttons, row after row (``{"text": ..., "callback_data": ...}``)."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [button if isinstance(button, dict) else {"text": button} for row in rows for button in row]

    @property
    def button_texts(self) -> list[str]:
        return [button["text"] for button in self.buttons]


Match = str | Callable[[BotMessage], bool]


class TelegramUser:
    """A citizen in a private chat with one bot, speaking the emulator's client-side API."""

    def __init__(self, emulator: TelegramEmulator, token: str, user_id: int, first_name: str,
                 language_code: str) -> None:
        self.emulator, self.token, self.user_id = emulator, token, user_id
        self.profile = {"id": user_id, "is_bot": False, "first_name": first_name,
                        "language_code": language_code}
        self.chat = {"id": user_id, "type": "private", "first_name": first_name}
        self._seen = 0  # seq of the last message wait_for returned

    async def send(self, text: str) -> None:
        """Send a text (or a /command) to the bot."""
        await self._send_message(text=text)

    async def share_location(self, latitude: float, longitude: float) -> None:
        """Share a location, as the "send my location" button of a reply keyboard does."""
        await self._send_message(location={"latitude": latitude, "longitude": longitude})

    async def share_contact(self, phone_number: str) -> None:
        """Share one's own phone number, as the "share contact" button of a reply keyboard does."""
        await self._send_message(contact={"phone_number": phone_number, "user_id": self.user_id,
                                          "first_name": self.profile["first_name"]})

    async def press(self, button: str) -> None:
        """Press the inline button with this callback_data (or else this text).

        The newest bot message showing such a button is the one the callback refers to, so the
        bot can edit it. Fails if no message in the chat shows that button.
        """
        messages = await self.messages()
        for key in ("callback_data", "text"):
            for message in reversed(messages):
                for candidate in message.buttons:
                    if "callback_data" in candidate and candidate[key] == button:
                        await self.emulator.post("/sendCallback", {
                            "botToken": self.token, "from": self.profile,
                            "data": candidate["callback_data"],
                            "message": {"message_id": message.message_id, "chat": self.chat},
                        })
                        return
        raise AssertionError(f"no inline button {button!r} in the chat; the bot's messages: "
                             f"{[(m.text, m.button_texts) for m in messages]}")

    async def messages(self) -> list[BotMessage]:
        """The bot's messages in this chat so far, in their latest state, deleted ones left out."""
        latest: dict[int, BotMessage | None] = {}
        for event, message in await self._events():
            latest[message.message_id] = None if event == "deleted" else message
        return sorted((m for m in latest.values() if m), key=lambda m: m.message_id)

    async def wait_for(self, match: Match, timeout: float = 10.0) -> BotMessage:
        """Wait for a bot message (new, or an edit) containing ``match`` or satisfying it.

        Like ``expect``: only what arrived after the message the previous wait returned is
        considered, and every state a message went through is seen, however short-lived.
        """
        accepts = match if callable(match) else (lambda m: match in (m.text or ""))
        deadline = time.monotonic() + timeout
        while True:
            for event, message in await self._events(after=self._seen):
                if event != "deleted" and accepts(message):
                    self._seen = message.seq
                    return message
            if time.monotonic() > deadline:
                arrived = [(event, m.text) for event, m in await self._events(after=self._seen)]
                raise AssertionError(f"no bot message matching {match!r} within {timeout}s; "
                                     f"arrived since the last match: {arrived}")
            await asyncio.sleep(POLL_INTERVAL)

    async def _send_message(self, **content: Any) -> None:
        await self.emulator.post("/sendMessage", {
            "botToken": self.token, "from": self.profile, "chat": self.chat,
            "date": int(time.time()), **content,
        })

    async def _events(self, after: int = 0) -> list[tuple[str, BotMessage]]:
        events = await self.emulator.post("/bridge/events", {
            "token": self.token, "chatId": self.user_id, "after": after})
        return [(event["kind"], _bot_message(event)) for event in events]


def _bot_message(event: dict[str, Any]) -> BotMessage:
    raw = event["message"]
    return BotMessage(message_id=raw["message_id"], text=raw.get("text", raw.get("caption")),
                      reply_markup=raw.get("reply_markup"), edited="edit_date" in raw, raw=raw,
                      seq=event["seq"])


class TelegramEmulator:
    """A running emulator: where to point the bot, and the users who talk to it."""

    _tokens = itertools.count(1)

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.api_url = f"{self.url}/bot"  # python-telegram-bot's base_url
        self.file_url = f"{self.url}/file/bot"  # python-telegram-bot's base_file_url

    def new_token(self) -> str:
        """A realistic, never used bot token: each test gets a bot of its own."""
        return f"{100000 + next(self._tokens)}:TEST-token"

    def user(self, token: str, user_id: int, first_name: str = "Citizen",
             language_code: str = "en") -> TelegramUser:
        return TelegramUser(self, token, user_id, first_name, language_code)

    async def calls(self, token: str, method: str | None = None) -> list[dict[str, Any]]:
        """Bot API calls the bot made (``{"method", "params", "time"}``), getUpdates left out."""
        return await self.post("/bridge/calls", {"token": token, "method": method})

    async def post(self, path: str, payload: dict[str, Any]) -> Any:
        # A client per call: cheap on loopback, and never tied to a closed event loop.
        async with httpx.AsyncClient(base_url=self.url, verify=False, trust_env=False) as client:
            response = await client.post(path, json=payload)
        response.raise_for_status()
        return response.json()["result"]


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"the Telegram emulator needs {tool!r} (Node.js 18+) on PATH: "
                    "install Node.js, e.g. `apt-get install nodejs npm`", pytrace=False)
    return path


@pytest.fixture(scope="session")
def telegram_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TelegramEmulator]:
    """Start the emulator once per session (installing its pinned npm packages if missing)."""
    node = _require("node")
    if not (EMULATOR_DIR / "node_modules" / "telegram-test-api").is_dir():
        done = subprocess.run([_require("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                              cwd=EMULATOR_DIR, capture_output=True, text=True)
        if done.returncode:
            pytest.fail(f"`npm ci` in {EMULATOR_DIR} failed:\n{done.stdout}{done.stderr}", pytrace=False)

    log_path = tmp_path_factory.mktemp("telegram-emulator") / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([node, str(EMULATOR_DIR / "server.js"), "0"], cwd=EMULATOR_DIR,
                                   stdout=subprocess.PIPE, stderr=log, text=True,
                                   env={**os.environ, "DEBUG": ""})
    try:
        port = _wait_ready(process, log_path)
        yield TelegramEmulator(port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def _wait_ready(process: subprocess.Popen[str], log_path: Path) -> int:
    """The port from the server's "READY <port>" line; fails with its log otherwise."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        if select.select([process.stdout], [], [], 0.1)[0]:
            line = process.stdout.readline()
            if line.startswith("READY "):
                return int(line.split()[1])
    process.kill()
    pytest.fail(f"the Telegram emulator did not start:\n{log_path.read_text()}", pytrace=False)
