"""The WhatsApp channel through Twilio: sending.

The outbox hands :class:`WhatsAppSender` one stored reply at a time. It is
rendered as WhatsApp can show it — the choices as a numbered list after the
text (a reply "2", or the choice's words, selects it: see
:mod:`flows.choices`), cut into pieces of at most 1,600 characters at line
or sentence boundaries — and sent with the real twilio client through
Twilio's Messages API. The client's HTTP goes through
:class:`HttpxTwilioClient`: asynchronous, so the event loop never waits on
Twilio, and with a base URL that can point at an emulator or a test server.

The 24-hour window: WhatsApp takes free-form messages only within 24 hours
of the citizen's last message (``Conversation.last_inbound_at``). Outside
it, the approved template configured for the message's kind goes instead
(``Outgoing.template``; a message that names no kind is a ``reply``), with
``ContentSid`` and ``ContentVariables`` (the message's
``template_variables``, or ``{"1": its text}``). With no template for that
kind the message is *held*: it stays in the outbox, the reason in its
``error`` for staff to see, and goes out as soon as the citizen writes again
(the inbound webhook puts it back in the queue).

Errors are sorted by :func:`sort_error`, for sends and for delivery reports
alike: 21610 (the citizen blocked us or opted out) stops that contact; 63018
(WhatsApp's rate limit), 429 and 5xx retry with back-off; 63016 (WhatsApp
says the window is closed after all) holds; anything else fails with its
reason. A message cut into pieces is retried whole: a piece sent twice is
better than a piece lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from datetime import datetime, timedelta

import httpx
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http import AsyncHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from flows.messages import Outgoing, utcnow
from handlers.textsplit import split_text
from notifications.senders import SendResult

log = logging.getLogger(__name__)
CHANNEL = "whatsapp"
MAX_BODY = 1600
WINDOW = timedelta(hours=24)
DEFAULT_KIND = "reply"
TWILIO_API = "https://api.twilio.com"
MAX_VARIABLE = 1000  # WhatsApp takes up to 1,024 characters per template variable
CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")

BLOCKED = {21610}  # the citizen blocked the sender or opted out
RETRY = {63018, 20429}  # WhatsApp's rate limit for this sender; Twilio's "too many requests"
WINDOW_CLOSED = {63016}  # free-form message outside the 24-hour window


def render(message: Outgoing) -> str:
    """The text, then the choices as a numbered list."""
    if not message.choices:
        return message.text
    listed = "\n".join(f"{number}. {choice.label}" for number, choice in enumerate(message.choices, 1))
    return f"{message.text}\n\n{listed}"


def pieces(message: Outgoing) -> list[str]:
    return split_text(render(message), MAX_BODY)


def sort_error(code: int | None, status: int | None, reason: str) -> SendResult:
    """What to do about a Twilio error (``code``) or HTTP ``status``."""
    logged = error_code(code, status)
    if code in BLOCKED:
        return SendResult.blocked(reason, logged)
    if code in WINDOW_CLOSED:
        return SendResult.held(f"{reason} (the 24-hour window is closed: waiting for the citizen to write)", logged)
    if code in RETRY or status == 429 or (status or 0) >= 500:
        return SendResult.retry(reason, code=logged)
    return SendResult.failed(reason, logged)


def error_code(code: int | None, status: int | None) -> str:
    """Twilio's code and the HTTP status, for the logs (Twilio's message
    may quote the number, so it stays out of them)."""
    return " ".join(part for part in (f"Twilio {code or '-'}", f"(HTTP {status})" if status else "") if part)


def template_variables(message: Outgoing) -> dict[str, str]:
    """The template's variables, on one line each as WhatsApp requires."""
    given = message.template_variables or {"1": message.text}
    return {str(k): _one_line(str(v)) for k, v in given.items()}


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_VARIABLE else flat[: MAX_VARIABLE - 1] + "…"


class HttpxTwilioClient(AsyncHttpClient):
    """The twilio library's HTTP, done by httpx without blocking the event
    loop, sent to ``base_url`` instead of Twilio's own when one is given."""

    def __init__(self, base_url: str = TWILIO_API, timeout: float = 15.0):
        super().__init__(log, is_async=True, timeout=timeout)
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(timeout=timeout)

    def rebase(self, url: str) -> str:
        return self.base_url + url[len(TWILIO_API):] if url.startswith(TWILIO_API) else url

    async def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False):
        response = await self._http.request(
            method, self.rebase(url), params=params, data=data, headers=headers, auth=auth,
            timeout=timeout or self.timeout, follow_redirects=allow_redirects,
        )
        return TwilioResponse(response.status_code, response.text, response.headers)

    async def close(self) -> None:
        await self._http.aclose()


def twilio_client(account_sid: str, auth_token: str, base_url: str = TWILIO_API) -> Client:
    return Client(account_sid, auth_token, http_client=HttpxTwilioClient(base_url))


class WhatsAppSender:
    channel = CHANNEL
    per_second = 10.0  # WHATSAPP_PER_SECOND: what the WhatsApp sender's tier allows

    def __init__(
        self,
        client: Client,
        *,
        last_inbound: Callable[[str], datetime | None],
        sender: str = "",
        messaging_service_sid: str = "",
        status_callback: str | None = None,
        templates: dict[str, str] | None = None,
        clock: Callable[[], datetime] = utcnow,
        file_link: Callable[[str], str] | None = None,
        per_second: float | None = None,
    ):
        if not (sender or messaging_service_sid):
            raise ValueError("a WhatsApp sender (TWILIO_WHATSAPP_FROM) or TWILIO_MESSAGING_SERVICE_SID is needed")
        self.client = client
        if per_second is not None:
            self.per_second = per_second
        self.last_inbound = last_inbound  # reads the store: called in a worker thread
        self.origin = {k: v for k, v in (("from_", sender), ("messaging_service_sid", messaging_service_sid)) if v}
        self.status_callback = status_callback
        self.templates = dict(templates or {})
        self.clock = clock
        # token -> a one-time link to a message's document (WhatsApp attaches
        # only what Twilio can fetch, so the citizen gets the link; see bot.privacy).
        self.file_link = file_link
        for kind, sid in self.templates.items():
            if not CONTENT_SID.match(sid):
                log.warning("WHATSAPP_TEMPLATES: %r for %r is not a Content SID (HX + 32 hex digits): Twilio will refuse it", sid, kind)

    async def send(self, message: Outgoing) -> SendResult:
        return await (await self.prepare(message))()

    async def prepare(self, message: Outgoing) -> Callable[[], Awaitable[SendResult]]:
        """Look up the citizen's 24-hour window (a query) and return the send
        itself: the outbox looks up before the channel's turn, then sends on it."""
        last = await asyncio.to_thread(self.last_inbound, message.address)
        return partial(self._send, message, last)

    async def _send(self, message: Outgoing, last: datetime | None) -> SendResult:
        if message.document:
            if self.file_link is None:
                return SendResult.failed("no public URL (TWILIO_PUBLIC_URL) to link the file from")
            message = replace(message, text=f"{message.text}\n{self.file_link(message.document)}", document=None)
        try:
            if last is not None and self.clock() - last < WINDOW:
                sid = None
                for piece in pieces(message):
                    sid = (await self._create(message.address, body=piece)).sid
                return SendResult.sent(sid)  # delivery reports follow the last piece
            return await self._send_template(message, last)
        except TwilioRestException as error:
            return sort_error(error.code, error.status, f"Twilio {error.code}: {error.msg}")
        except TwilioServiceException as error:
            return sort_error(error.code, error.status, f"Twilio {error.code}: {error.title} {error.detail or ''}".strip())
        except httpx.HTTPError as error:
            return SendResult.retry(f"{type(error).__name__}: {error}", code=type(error).__name__)

    async def _send_template(self, message: Outgoing, last: datetime | None) -> SendResult:
        kind = message.template or DEFAULT_KIND
        content_sid = self.templates.get(kind)
        if content_sid is None:
            since = f"last wrote {last:%Y-%m-%d %H:%M} UTC" if last else "has never written here"
            return SendResult.held(
                f"held: the WhatsApp 24-hour window is closed (the citizen {since}) and WHATSAPP_TEMPLATES has no "
                f"template for '{kind}'; it goes out when the citizen writes again",
                f"24-hour window closed, no template for '{kind}'",
            )
        variables = json.dumps(template_variables(message), ensure_ascii=False)
        created = await self._create(message.address, content_sid=content_sid, content_variables=variables)
        return SendResult.sent(created.sid)

    async def _create(self, to: str, **fields):
        if self.status_callback:
            fields["status_callback"] = self.status_callback
        return await self.client.messages.create_async(to=to, **self.origin, **fields)
