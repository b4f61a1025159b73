"""The web chat at ``/chat``: a citizen talks to the bot from a browser.

    GET  /chat                  the page (a chat of its own per browser, kept in a cookie)
    POST /chat/say              {"text": ...} | {"button": ...} | {"latitude": ..., "longitude": ...}
    POST /chat/photo            the photo's bytes (image/jpeg, png or webp; ?caption=...)
    GET  /chat/messages?after=N the bot's messages to this browser after message N

A browser is a citizen address ``webchat:<random id>``. What the bot says is
queued in the outbox like any channel's replies; the page reads it from the
store, so a reply made in another process, or by a caseworker hours later,
reaches the page as surely as an immediate answer. The outbox's sender for
this channel has nothing to send: it records the message as delivered.
Photos are kept in ``DATA_DIR/chat-files`` (the request keeps the name;
staff open it from the dashboard).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from pathlib import Path

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from flows.i18n import supported
from flows.messages import Attachment, Incoming, Location, Outgoing
from handlers.request_body import read_body
from notifications.senders import SendResult
from storage.models import Message

CHANNEL = "webchat"
COOKIE = "onewindow_chat"
MAX_SAY = 16_000
MAX_PHOTO = 5_000_000
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
FILE_PREFIX = "webchat-file:"
PAGE = Path(__file__).with_name("webchat.html")


class WebChatSender:
    """The outbox's way out for the web chat: the page reads the message
    from the store, so sending is recording it as delivered."""

    channel = CHANNEL
    per_second = 0.0  # no limit

    async def send(self, message: Outgoing) -> SendResult:
        return SendResult.sent()


class WebChat:
    def __init__(self, engine, database, files: Path):
        self.engine = engine
        self.database = database
        self.files = files

    def routes(self) -> list[Route]:
        return [
            Route("/chat", self.page, methods=["GET"]),
            Route("/chat/say", self.say, methods=["POST"]),
            Route("/chat/photo", self.photo, methods=["POST"]),
            Route("/chat/messages", self.messages, methods=["GET"]),
        ]

    async def page(self, request: Request) -> Response:
        response = HTMLResponse(PAGE.read_text("utf-8"), headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})
        if _browser(request) is None:
            response.set_cookie(COOKIE, secrets.token_urlsafe(18), max_age=365 * 86400, httponly=True, samesite="strict", path="/chat")
        return response

    async def say(self, request: Request) -> Response:
        browser = _browser(request)
        if browser is None:
            return JSONResponse({"error": "open /chat first"}, status_code=401)
        body = await read_body(request, MAX_SAY)
        if body is None:
            return JSONResponse({"error": "too long"}, status_code=413)
        try:
            said = json.loads(body)
            if not isinstance(said, dict):
                raise ValueError
            location = None
            if "latitude" in said or "longitude" in said:
                latitude, longitude = float(said["latitude"]), float(said["longitude"])
                if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                    raise ValueError
                location = Location(latitude, longitude)
        except (ValueError, TypeError, KeyError, RecursionError):
            return JSONResponse({"error": "send {\"text\": ...}, {\"button\": ...} or {\"latitude\": ..., \"longitude\": ...}"}, status_code=400)
        button = said.get("button")
        msg = self._incoming(request, browser, text=str(said.get("text") or "")[:4000], location=location,
                             event={"type": "button", "data": str(button)[:64]} if button else None)
        await self._handle(msg)
        return JSONResponse({"ok": True})

    async def photo(self, request: Request) -> Response:
        browser = _browser(request)
        if browser is None:
            return JSONResponse({"error": "open /chat first"}, status_code=401)
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in PHOTO_TYPES:
            return JSONResponse({"error": "a photo: JPEG, PNG or WebP"}, status_code=415)
        body = await read_body(request, MAX_PHOTO)
        if body is None:
            return JSONResponse({"error": f"a photo of at most {MAX_PHOTO // 1_000_000} MB"}, status_code=413)
        if not body:
            return JSONResponse({"error": "the photo is empty"}, status_code=400)
        name = f"{uuid.uuid4().hex}.{PHOTO_TYPES[kind]}"
        await asyncio.to_thread(self._keep, name, body)
        attachment = Attachment("photo", FILE_PREFIX + name, kind, len(body))
        msg = self._incoming(request, browser, text=request.query_params.get("caption", "")[:4000], attachments=(attachment,))
        await self._handle(msg)
        return JSONResponse({"ok": True})

    def _keep(self, name: str, body: bytes) -> None:
        self.files.mkdir(parents=True, exist_ok=True)
        (self.files / name).write_bytes(body)

    async def messages(self, request: Request) -> Response:
        browser = _browser(request)
        if browser is None:
            return JSONResponse([])
        after = request.query_params.get("after", "0")
        after = int(after) if after.isdecimal() else 0
        rows = await asyncio.to_thread(self._since, f"{CHANNEL}:{browser}", after)
        return JSONResponse([
            {"id": row.id, "text": row.text, "menu": (row.payload or {}).get("menu_id"),
             "choices": [{"key": key, "label": label} for key, label in (row.payload or {}).get("choices", [])]}
            for row in rows
        ], headers={"Cache-Control": "no-store"})

    def _since(self, address: str, after: int) -> list:
        table = Message.__table__
        with self.database.connect() as conn:
            return list(conn.execute(
                select(table.c.id, table.c.text, table.c.payload)
                .where(table.c.address == address, table.c.direction == "out", table.c.id > after).order_by(table.c.id).limit(100)
            ))

    def _incoming(self, request: Request, browser: str, **fields) -> Incoming:
        language = request.headers.get("accept-language", "").split(",")[0].split(";")[0].strip()
        return Incoming(channel=CHANNEL, address=f"{CHANNEL}:{browser}", external_id=uuid.uuid4().hex,
                        language_hint=supported(language), **fields)

    async def _handle(self, msg: Incoming) -> None:
        await asyncio.to_thread(self.engine.handle, msg)  # the engine tells the outbox of its replies


def _browser(request: Request) -> str | None:
    """This browser's chat id, from its cookie (a made-up one is just a new chat)."""
    value = request.cookies.get(COOKIE, "")
    return value if 16 <= len(value) <= 40 and value.replace("-", "").replace("_", "").isalnum() else None
