"""The web chat as a newcomer meets it: open the page, say hello, press the
buttons, share a place, file a request with a photo, and later read the
caseworker's answer — each browser a citizen of its own."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import select
from starlette.applications import Starlette

from bot.dashboard import Dashboard, Sessions
from handlers.staff.team import add
from handlers.webchat import WebChat
from storage.db import session_scope
from storage.models import Request
from tests.conversation import Chat
from tests.test_staff import request_of

ROOT = Path(__file__).resolve().parents[1]
GULISTAN = {"latitude": 40.4897, "longitude": 68.7842}
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200 + b"\xff\xd9"


@pytest.fixture
def app(engine, database, catalog, tmp_path):
    chat = WebChat(engine, database, tmp_path / "chat-files")
    dashboard = Dashboard(database, catalog, engine.desk, Sessions("secret"), files=tmp_path / "chat-files")
    return Starlette(routes=chat.routes() + dashboard.routes())


class Browser:
    """One browser on the chat page: what it sends, and the bot's messages it shows."""

    def __init__(self, app, language: str = "en-GB,en;q=0.8"):
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test",
                                        headers={"Accept-Language": language})
        self.last = 0
        self.shown: list[dict] = []

    async def open(self) -> httpx.Response:
        page = await self.client.get("/chat")
        assert page.status_code == 200 and "onewindow" in page.text
        return page

    async def say(self, **what) -> list[dict]:
        response = await self.client.post("/chat/say", json=what)
        assert response.status_code == 200, response.text
        return await self.read()

    async def read(self) -> list[dict]:
        new = (await self.client.get("/chat/messages", params={"after": self.last})).json()
        if new:
            self.last = new[-1]["id"]
            self.shown = new
        return new

    @property
    def text(self) -> str:
        return "\n".join(m["text"] for m in self.shown)

    async def press(self, label: str) -> list[dict]:
        menu = next(m for m in reversed(self.shown) if m["choices"])
        choice = next(c for c in menu["choices"] if label.lower() in c["label"].lower())
        return await self.say(button=f"{menu['menu']}|{choice['key']}")


async def file_a_request(browser: Browser, words: str = "Three days without electricity in our street") -> str:
    await browser.open()
    await browser.say(text="hello")
    assert "Hello! I am onewindow" in browser.text  # in the browser's language
    await browser.say(**GULISTAN)
    await browser.press("yes")
    await browser.say(text=words)
    await browser.press("yes")
    return re.search(r"\b([A-Z0-9]{3}-[A-Z0-9]{3})\b", browser.text).group(1)


async def test_a_citizen_files_a_request_in_the_browser(app, database):
    rosa = Browser(app)
    code = await file_a_request(rosa)
    request = request_of(database, code)
    assert (request.channel, request.category_id, request.locality_id) == ("webchat", "utilities", "uz-syr-gulistan-c-centre")
    assert request.address.startswith("webchat:")
    await rosa.client.aclose()


async def test_each_browser_is_a_citizen_of_its_own(app, database):
    rosa, ali = Browser(app, "es-AR"), Browser(app, "ru-RU")
    await rosa.open()
    await ali.open()
    await rosa.say(text="hola")
    await ali.say(text="здравствуйте")
    assert "¡Hola! Soy onewindow" in rosa.text and "Здравствуйте" not in rosa.text
    assert "Здравствуйте! Я onewindow" in ali.text and "¡Hola!" not in ali.text
    assert await rosa.read() == []  # nothing new, and nothing of Ali's
    await rosa.client.aclose()
    await ali.client.aclose()


async def test_a_caseworkers_answer_reaches_the_page_later(app, engine, database):
    with session_scope(database) as session:
        add(session, "console:karim", "caseworker", "utilities", "Karim")
    rosa = Browser(app)
    code = await file_a_request(rosa)
    Chat(engine, "karim").send(f"/reply {code} A crew comes tomorrow at 9")
    later = await rosa.read()
    assert [m["text"] for m in later] == [f"💬 About your request {code}:\nA crew comes tomorrow at 9\n— Utilities and roads"]
    await rosa.client.aclose()


async def test_a_photo_goes_with_the_request_and_staff_open_it_from_the_dashboard(app, engine, database, tmp_path):
    with session_scope(database) as session:
        add(session, "console:karim", "caseworker", "utilities", "Karim")
        add(session, "console:dilnoza", "caseworker", "documents", "Dilnoza")
    rosa = Browser(app)
    await rosa.open()
    await rosa.say(text="hello")
    await rosa.say(**GULISTAN)
    await rosa.press("yes")
    sent = await rosa.client.post("/chat/photo", params={"caption": "The pole fell on the wire, no electricity since Monday"},
                                  content=JPEG, headers={"Content-Type": "image/jpeg"})
    assert sent.status_code == 200
    await rosa.read()
    await rosa.press("yes")
    code = re.search(r"\b([A-Z0-9]{3}-[A-Z0-9]{3})\b", rosa.text).group(1)
    [photo] = request_of(database, code).attachments
    name = photo["ref"].removeprefix("webchat-file:")
    assert photo["kind"] == "photo" and (tmp_path / "chat-files" / name).read_bytes() == JPEG

    async def open_as(who: str) -> httpx.Response:
        staff = Chat(engine, who)
        staff.send("/dashboard")
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test")
        await client.post(re.search(r"(/dashboard/signin/\S+)", staff.text).group(1))
        page = await client.get(f"/dashboard/requests/{code}")
        image = await client.get(f"/dashboard/requests/{code}/files/{name}")
        await client.aclose()
        return page, image

    page, image = await open_as("karim")
    assert f"/files/{name}" in page.text and image.status_code == 200 and image.content == JPEG
    _, refused = await open_as("dilnoza")  # another department's request: no photo either
    assert refused.status_code == 404
    await rosa.client.aclose()


async def test_what_the_page_cannot_take_is_refused_plainly(app, database):
    stranger = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test")
    assert (await stranger.post("/chat/say", json={"text": "hi"})).status_code == 401  # never opened the page
    assert (await stranger.get("/chat/messages")).json() == []
    rosa = Browser(app)
    await rosa.open()
    for body in (b"not json", b"[1, 2]", b'{"latitude": 91, "longitude": 0}', b'{"latitude": "north"}'):
        refused = await rosa.client.post("/chat/say", content=body, headers={"Content-Type": "application/json"})
        assert refused.status_code == 400 and "send" in refused.json()["error"]
    assert (await rosa.client.post("/chat/photo", content=b"%PDF", headers={"Content-Type": "application/pdf"})).status_code == 415
    huge = await rosa.client.post("/chat/photo", content=b"x", headers={"Content-Type": "image/png", "Content-Length": "6000000"})
    assert huge.status_code == 413
    with session_scope(database) as session:
        assert list(session.exec(select(Request))) == []
    await stranger.aclose()
    await rosa.client.aclose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_with_no_channel_serves_the_chat_and_says_where(tmp_path):
    """``make run`` on a fresh machine: no tokens, and the bot is one browser tab away."""
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "DATABASE_URL"))}
    environment.update({"DATA_DIR": str(tmp_path / "data"), "WEB_PORT": str(port), "PYTHONPATH": str(ROOT)})
    bot = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=environment,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        said = ""
        while f"http://127.0.0.1:{port}/chat" not in said:
            line = bot.stderr.readline()
            assert line, f"the bot stopped: {said}"
            said += line
        assert "No channel is configured" in said
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as browser:
            for _ in range(100):  # the server starts listening a moment after it says where
                try:
                    page = browser.get("/chat")
                    break
                except httpx.ConnectError:
                    time.sleep(0.1)
            assert page.status_code == 200
            assert browser.post("/chat/say", json={"text": "hola"}).status_code == 200
            shown = browser.get("/chat/messages").json()
            assert any("¡Hola! Soy onewindow" in m["text"] for m in shown)
    finally:
        bot.send_signal(signal.SIGTERM)
        assert bot.wait(timeout=30) == 0
