"""The web server: every webhook and a health check, in one ASGI app.

``POST /telegram`` accepts an update only with the right
``X-Telegram-Bot-Api-Secret-Token`` and answers 200 only once the update is
stored (:mod:`handlers.telegram_inbox`): 413 for a body over
:data:`MAX_BODY` (read no further), 400 with the reason for anything that
is not an update we can read, 503 while the bot is stopping; ``POST /whatsapp`` and
``POST /whatsapp/status`` take Twilio's signed posts (see
:mod:`handlers.whatsapp`); ``GET /mydata/<token>`` hands a citizen their
own data once, within an hour of asking (see :mod:`bot.privacy`);
``/open311/v2/`` is the Open311 GeoReport v2 API (see :mod:`handlers.open311`);
``/dashboard`` is the staff's web dashboard (see :mod:`bot.dashboard`);
``/chat`` is the citizens' web chat (see :mod:`handlers.webchat`);
``GET /healthz`` says whether the store answers, the outbox and the
scheduler are alive, and the replies leave: the outbox's backlog, its
oldest waiting message, held and failed counts, with 503 past the
``OUTBOX_ALERT_*`` thresholds (see :mod:`notifications.backlog`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from datetime import timedelta

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import privacy
from handlers.request_body import read_body
from handlers.telegram_inbox import InboxClosed
from handlers.telegram_updates import BadUpdate
from storage.models import utcnow

MAX_BODY = 1_000_000
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
LINK_GONE = "This link has expired or was already used. Ask the bot again: /mydata\n"


def create_app(bot, telegram=None, webhook_secret: str | None = None, whatsapp=None, open311=None, dashboard=None, web_chat=None) -> Starlette:
    """``telegram``: a :class:`handlers.telegram_inbox.TelegramInbox`, when
    Telegram's webhook is on; ``whatsapp``: a
    :class:`handlers.whatsapp.WhatsAppWebhook`, when WhatsApp is on;
    ``open311``: a :class:`handlers.open311.Open311Api`, unless ``OPEN311=off``;
    ``dashboard``: the staff's :class:`bot.dashboard.Dashboard`; ``web_chat``:
    the citizens' :class:`handlers.webchat.WebChat`, unless ``WEB_CHAT=off``."""
    own = OwnRoutes(bot, telegram, webhook_secret)
    routes = [
        Route("/healthz", own.healthz),
        Route("/telegram", own.telegram_update, methods=["POST"]),
        Route("/mydata/{token}", own.mydata, methods=["GET"]),
    ]
    for part in (whatsapp, open311, dashboard, web_chat):
        if part is not None:
            routes += part.routes()
    return Starlette(routes=routes)


class OwnRoutes:
    """The routes of this module: the health check, Telegram's webhook and
    a citizen's one-time data link. Each is a method of its own, so a test
    (or a mutation run) that reaches one need not reach the others."""

    def __init__(self, bot, telegram, webhook_secret: str | None) -> None:
        self.bot = bot
        self.telegram = telegram
        self.webhook_secret = webhook_secret
        self.take_file = privacy.file_for_link(bot.database)

    async def healthz(self, request: Request) -> Response:
        checks = {}
        try:
            await asyncio.to_thread(_ping, self.bot.database)
            checks["store"] = "ok"
        except Exception as error:  # the answer must say what is wrong, not crash
            checks["store"] = f"error: {type(error).__name__}"
        checks["outbox"] = _alive(self.bot.outbox.alive_at)
        checks["scheduler"] = _alive(self.bot.scheduler.alive_at)
        healthy = all(v == "ok" for v in checks.values())
        if checks["store"] == "ok":
            delivering, checks["delivery"] = await asyncio.to_thread(self.bot.outbox.health)
            healthy = healthy and delivering
        return JSONResponse({"ok": healthy, **checks}, status_code=200 if healthy else 503)

    async def telegram_update(self, request: Request) -> Response:
        if self.telegram is None:
            return Response(status_code=404)
        given = request.headers.get("x-telegram-bot-api-secret-token")
        if given is None or not self.webhook_secret or not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
            return Response("wrong secret token", status_code=403)
        body = await read_body(request, MAX_BODY)
        if body is None:
            return Response("too large", status_code=413)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return Response("not JSON", status_code=400)
        try:
            await self.telegram.receive(data)
        except BadUpdate as error:
            return Response(str(error), status_code=400)
        except InboxClosed:
            return Response("stopping; send it again", status_code=503)
        return Response(status_code=200)

    async def mydata(self, request: Request) -> Response:
        """A citizen's file behind a one-time link (see :mod:`bot.privacy`)."""
        file = await asyncio.to_thread(self.take_file, request.path_params["token"])
        if file is None:
            return PlainTextResponse(LINK_GONE, status_code=404, headers=NO_STORE)
        name, body = file
        headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'}
        return Response(body, media_type="application/json; charset=utf-8", headers=headers)


def _alive(beat) -> str:
    """A loop that has not beaten for half a minute is stuck or stopped."""
    return "ok" if beat and utcnow() - beat < timedelta(seconds=30) else "stalled"


def _ping(database) -> None:
    with database.connect() as connection:
        connection.execute(text("SELECT 1"))
