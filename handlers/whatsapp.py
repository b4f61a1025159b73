"""The WhatsApp channel through Twilio: the webhooks.

``POST /whatsapp`` is Twilio's form post for each message a citizen sends.
It is taken only with a valid ``X-Twilio-Signature`` (the twilio library's
``RequestValidator``, computed over the public URL Twilio was configured
with: :func:`signed_url`), read into one :class:`~flows.messages.Incoming`
(keyed by ``MessageSid``, so a delivery Twilio retries is handled once) and
handled by the engine in a worker thread, after which the answer is an empty
TwiML document. Replies never leave in this request: the engine queues them
and the outbox sends them through the REST API (:mod:`handlers.whatsapp_sender`).

``POST /whatsapp/status`` is Twilio's delivery report for a message we sent:
it moves the stored message forward (sent > delivered > read), or sorts a
late failure like a failed send (retry, stop the contact, hold, or fail
with Twilio's error code).

A post Twilio would never send — unsigned or wrongly signed (403), too large
(413), missing what every message has (400, with the reason) — is refused
before anything is stored.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from flows.linking import normalize_phone
from flows.messages import Attachment, Incoming, Location, utcnow
from flows.storable import storable_text
from handlers.request_body import read_body
from handlers.together import Together
from handlers.whatsapp_sender import CHANNEL, TWILIO_API, WhatsAppSender, sort_error, twilio_client
from storage import delivery
from storage.db import reading

if TYPE_CHECKING:
    from bot.engine import Handled

log = logging.getLogger(__name__)
INBOUND_PATH = "/whatsapp"
STATUS_PATH = "/whatsapp/status"
FILE_PATH = "/mydata"  # + "/<token>": a citizen's own data, served once by the web app (bot.web)
MAX_BODY = 64 * 1024  # a message with ten media and 4,096 characters of Cyrillic is about 40 KB
MAX_MEDIA = 10
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# What Twilio sends, in ASCII only: str.isdigit() and float() also take '²',
# Arabic-Indic and full-width digits, 'nan', 'inf' and '1_0', and int() gives
# up on thousands of digits. Anything else is a 400 with the reason, not a 500.
_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}", re.ASCII)
_COUNT = re.compile(r"[0-9]{1,4}", re.ASCII)
_CODE = re.compile(r"[0-9]{1,9}", re.ASCII)
_DEGREES = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{1,20})?", re.ASCII)
_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f/?#]+[^\s\x00-\x1f\x7f]*", re.ASCII)
UNSUPPORTED = {"sticker", "reaction", "unsupported"}  # MessageType values with nothing to read
LANGUAGE_BY_PREFIX = {"+54": "es"}  # a safe first guess; Uzbekistan's numbers say nothing of the script


class BadForm(ValueError):
    """A post that is not a message Twilio would send; the text says why."""


def to_incoming(form: Mapping[str, str]) -> Incoming:
    """The normalized message for one of Twilio's inbound WhatsApp posts."""
    sid = _required(form, "MessageSid")
    if not _SID.fullmatch(sid):
        raise BadForm("MessageSid is not a Twilio message SID")
    channel, _, number = _required(form, "From").partition(":")
    e164 = normalize_phone(number) if channel == CHANNEL else None
    if e164 is None:
        raise BadForm("From is not a WhatsApp address (whatsapp:+<number>)")
    kind = form.get("MessageType", "")
    unsupported = kind in UNSUPPORTED and not form.get("Body")
    payload = form.get("ButtonPayload")
    event = {"type": "unsupported", "kind": kind} if unsupported else ({"type": "template_button", "payload": payload} if payload else None)
    return Incoming(
        channel=CHANNEL,
        address=f"{CHANNEL}:{e164}",
        text=form.get("Body") or form.get("ButtonText") or "",
        external_id=sid,
        name=(form.get("ProfileName") or "")[:200] or None,
        attachments=() if unsupported else _media(form),
        location=_location(form),
        event=event,
        language_hint=next((lang for prefix, lang in LANGUAGE_BY_PREFIX.items() if e164.startswith(prefix)), None),
    )


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise BadForm(f"{name} is missing")
    return value


def _media(form: Mapping[str, str]) -> tuple[Attachment, ...]:
    raw = form.get("NumMedia", "0") or "0"
    if not _COUNT.fullmatch(raw) or int(raw) > MAX_MEDIA:
        raise BadForm(f"NumMedia must be a number from 0 to {MAX_MEDIA}")
    found = []
    for index in range(int(raw)):
        url = _required(form, f"MediaUrl{index}")
        if not _URL.fullmatch(url):
            raise BadForm(f"MediaUrl{index} is not a URL")
        content_type = form.get(f"MediaContentType{index}") or None
        found.append(Attachment(_kind(content_type or ""), url, content_type))
    return tuple(found)


def _kind(content_type: str) -> str:
    """WhatsApp voice notes are audio/ogg (opus); other audio is a file."""
    major = content_type.split("/", 1)[0]
    if major == "image":
        return "photo"
    if major == "audio":
        return "voice" if "ogg" in content_type or "opus" in content_type else "audio"
    return "video" if major == "video" else "document"


def _location(form: Mapping[str, str]) -> Location | None:
    if not form.get("Latitude") and not form.get("Longitude"):
        return None
    raw = form.get("Latitude", "").strip(), form.get("Longitude", "").strip()
    if not all(_DEGREES.fullmatch(value) for value in raw):
        raise BadForm("Latitude and Longitude must both be numbers")
    latitude, longitude = float(raw[0]), float(raw[1])
    if not (abs(latitude) <= 90 and abs(longitude) <= 180):
        raise BadForm("Latitude or Longitude is out of range")
    return Location(latitude, longitude, form.get("Address") or None, form.get("Label") or None)


def _error_code(raw: str) -> int | None:
    """Twilio's error code in a delivery report (five digits), if it is one."""
    return int(raw) if _CODE.fullmatch(raw.strip()) else None


def signed_url(request: Request, public_url: str, path: str) -> str:
    """The URL Twilio signed: the public URL it posts to (behind a proxy the
    local one differs) plus ``path`` and the query. Without a configured
    public URL it is rebuilt from the proxy's X-Forwarded-* headers."""
    base = public_url.rstrip("/") if public_url else _forwarded_base(request)
    query = request.url.query
    return f"{base}{path}?{query}" if query else f"{base}{path}"


def _forwarded_base(request: Request) -> str:
    headers = request.headers
    proto = headers.get("x-forwarded-proto", request.url.scheme).split(",")[0].strip()
    host = headers.get("x-forwarded-host", headers.get("host", request.url.netloc)).split(",")[0].strip()
    return f"{proto}://{host}{headers.get('x-forwarded-prefix', '').rstrip('/')}"


class WhatsAppWebhook:
    """The two webhook endpoints, bound to the engine, the outbox and the store."""

    def __init__(self, engine, outbox, database, auth_token: str, public_url: str = "", *, max_body: int = MAX_BODY):
        if not auth_token:
            raise ValueError("TWILIO_AUTH_TOKEN is needed to check Twilio's signatures")
        self.engine, self.outbox, self.database = engine, outbox, database
        self.validator = RequestValidator(auth_token)
        self.public_url = public_url
        self.max_body = max_body
        self.sender: WhatsAppSender | None = None  # set by connect()
        # On SQLite each transaction takes the one write lock first: one thread
        # handling the batches in turn beats several asleep in SQLite's busy
        # handler. On PostgreSQL two batches at once: one waiting for a citizen
        # another process is answering does not hold up the rest (more gain
        # nothing measurable: the process's CPU is the limit, bench/webhook.py).
        sqlite = getattr(getattr(database, "dialect", None), "name", "") == "sqlite"
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="whatsapp-engine") if sqlite else None
        # Messages that arrive while a batch is handled share the next one's commit.
        self._together = Together(self._receive, executor=self._executor, lanes=1 if sqlite else 2)

    async def close(self) -> None:
        if self.sender is not None:
            await self.sender.client.http_client.close()
        if self._executor is not None:
            self._executor.shutdown(wait=False)

    def routes(self) -> list[Route]:
        return [Route(INBOUND_PATH, self.inbound, methods=["POST"]), Route(STATUS_PATH, self.status, methods=["POST"])]

    async def inbound(self, request: Request) -> Response:
        form = await self._signed_form(request, INBOUND_PATH)
        if isinstance(form, Response):
            return form
        try:
            incoming = to_incoming(form)
        except BadForm as error:
            return PlainTextResponse(str(error), status_code=400)
        await self._together.submit(incoming)  # stored (and answered in the outbox) when this returns
        return Response(EMPTY_TWIML, media_type="text/xml")

    def _receive(self, messages: list[Incoming]) -> list[Handled]:
        """Handle the messages, together; each citizen's window being open
        again, what was held for them may go (the outbox queues it in its
        next round)."""
        done = self.engine.handle_together(messages)
        for incoming, handled in zip(messages, done):
            if not handled.duplicate:
                self.outbox.citizen_wrote(incoming.address)
        return done

    async def status(self, request: Request) -> Response:
        form = await self._signed_form(request, STATUS_PATH)
        if isinstance(form, Response):
            return form
        sid, status = form.get("MessageSid", "").strip(), form.get("MessageStatus", "").strip()
        if not sid or not status:
            return PlainTextResponse("MessageSid and MessageStatus are required", status_code=400)
        if not _SID.fullmatch(sid):
            return PlainTextResponse("MessageSid is not a Twilio message SID", status_code=400)
        code, message = _error_code(form.get("ErrorCode", "")), storable_text(form.get("ErrorMessage", ""))[:500]
        await asyncio.to_thread(self._report, sid, storable_text(status)[:40], code, message)
        return Response(status_code=200)

    def _report(self, sid: str, status: str, code: int | None, error_message: str) -> None:
        with self.database.begin() as conn:
            row = delivery.outbound_by_external_id(conn, CHANNEL, sid)
            if row is None:
                log.debug("delivery report for a message we do not know: %s %s", sid, status)
                return
            if status in delivery.PROGRESS:
                delivery.advance(conn, row.id, row.status, status)
                return
        if status in ("failed", "undelivered"):
            reason = f"{status}: Twilio {code or 'error'}" + (f": {error_message}" if error_message else "")
            self.outbox.settle(row.id, sort_error(code, None, reason))

    async def _signed_form(self, request: Request, path: str) -> dict[str, str] | Response:
        body = await read_body(request, self.max_body)
        if body is None:
            return PlainTextResponse("request body too large", status_code=413)
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except (UnicodeDecodeError, ValueError):
            return PlainTextResponse("the body is not a UTF-8 form", status_code=400)
        signature = request.headers.get("x-twilio-signature", "")
        if not signature or not self.validator.validate(signed_url(request, self.public_url, path), form, signature):
            return PlainTextResponse("invalid or missing X-Twilio-Signature", status_code=403)
        return form


def last_inbound_reader(database) -> Callable[[str], datetime | None]:
    """When the citizen at an address last wrote, read from the store."""

    def last_inbound(address: str) -> datetime | None:
        with reading(database) as conn:  # on the send path: waits for no writer
            return delivery.last_inbound_at(conn, address)

    return last_inbound


def connect(engine, outbox, database, *, account_sid: str, auth_token: str, public_url: str = "", sender: str = "",
            messaging_service_sid: str = "", status_callback: str | None = None, templates: dict[str, str] | None = None,
            api_base_url: str = TWILIO_API, clock: Callable[[], datetime] = utcnow, per_second: float | None = None) -> WhatsAppWebhook:
    """Both halves of the channel: the sender joins the outbox; the webhook
    (holding the sender, to close it at the end) is for the web server."""
    client = twilio_client(account_sid, auth_token, api_base_url)
    whatsapp = WhatsAppSender(
        client, last_inbound=last_inbound_reader(database), sender=sender, messaging_service_sid=messaging_service_sid,
        status_callback=status_callback, templates=templates, clock=clock, per_second=per_second,
        file_link=(lambda token: f"{public_url.rstrip('/')}{FILE_PATH}/{token}") if public_url else None,
    )
    outbox.add_sender(whatsapp)
    webhook = WhatsAppWebhook(engine, outbox, database, auth_token, public_url)
    webhook.sender = whatsapp
    return webhook
