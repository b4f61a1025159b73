"""A small Twilio on the loopback interface, for the tests.

Its REST half is a real HTTP server on 127.0.0.1. The real twilio client
(through :class:`handlers.whatsapp_sender.HttpxTwilioClient`, whose base URL
points here) sends its Messages.json requests to it; each is checked against
Twilio's own OpenAPI description of the API (``twilio_api_v2010.json`` in
``../shared/data/twilio-oai/``: parameter names, the required ones, types,
formats and patterns, ``MediaUrl`` as a list) and the rules its descriptions
state in words (``Body`` up to 1,600 characters, ``ContentVariables`` a JSON
object that needs a ``ContentSid``, a sender or a Messaging Service), then
recorded. It answers as Twilio does: 201 with the message resource, or the
error a test asked for, with Twilio's code.

Its webhook half is what Twilio posts to us: the saved payloads in
``fixtures/twilio/``, signed with ``RequestValidator.compute_signature``
over the public URL, as Twilio signs them.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest
from twilio.request_validator import RequestValidator

# Twilio's OpenAPI description of its 2010-04-01 API (twilio/twilio-oai 2.6.7,
# MIT licence: fixtures/twilio/LICENSE-twilio-oai), kept whole and compressed;
# the part that describes CreateMessage is extracted beside it for the fake.
OPENAPI = Path(__file__).resolve().parent / "fixtures" / "twilio" / "twilio_api_v2010.json.gz"
CREATE_MESSAGE = Path(__file__).resolve().parent / "fixtures" / "twilio" / "openapi_create_message.json"
FIXTURES = Path(__file__).with_name("fixtures") / "twilio"
MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
ACCOUNT_SID = "AC5ef8732a3c49700934481addd5ce1659"
AUTH_TOKEN = "9d1c6b2e0f4a4f3c8b7e6d5c4b3a2910"
OUR_NUMBER = "whatsapp:+14155238886"
PUBLIC_URL = "https://bot.example.org/onewindow"  # behind a proxy that adds a prefix
TEMPLATES = {"reply": "HX" + "a1" * 16, "status": "HX" + "b2" * 16}

_PHONE = re.compile(r"^(?:whatsapp:)?\+[1-9]\d{6,14}$")  # E.164, or a channel address
_INTEGER = re.compile(r"^-?\d+$")


def new_sid(prefix: str = "SM") -> str:
    return prefix + uuid.uuid4().hex


# -- the OpenAPI check ------------------------------------------------------------


class MessagesSchema:
    """CreateMessage's request as Twilio's OpenAPI description defines it."""

    def __init__(self, path: Path = CREATE_MESSAGE):
        spec = json.loads(path.read_text("utf-8"))
        operation = spec["paths"][MESSAGES]["post"]
        body = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        refs = spec["components"]["schemas"]
        self.properties = {name: refs[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p for name, p in body["properties"].items()}
        self.required = set(body.get("required", []))
        self.account_sid = next(p["schema"] for p in operation["parameters"] if p["name"] == "AccountSid")

    def problems(self, params: dict[str, list[str]]) -> list[str]:
        """Everything wrong with one request's form parameters (none: [])."""
        found = [f"{name} is required" for name in sorted(self.required - params.keys())]
        for name, values in params.items():
            schema = self.properties.get(name)
            if schema is None:
                found.append(f"{name} is not a CreateMessage parameter")
                continue
            if schema.get("type") != "array" and len(values) > 1:
                found.append(f"{name} is not a list but was given {len(values)} times")
            item = schema.get("items", {}) if schema.get("type") == "array" else schema
            found += [f"{name}: {problem}" for value in values for problem in value_problems(item, value)]
        return found + self.rules(params)

    @staticmethod
    def rules(params: dict[str, list[str]]) -> list[str]:
        """What the descriptions say in words."""
        found = []
        one = {name: values[0] for name, values in params.items() if values}
        if not ({"Body", "MediaUrl", "ContentSid"} & one.keys()):
            found.append("one of Body, MediaUrl or ContentSid is required")
        if not ({"From", "MessagingServiceSid"} & one.keys()):
            found.append("From or MessagingServiceSid is required")
        if len(one.get("Body", "")) > 1600:
            found.append(f"Body is {len(one['Body'])} characters, more than 1,600")
        if "ContentVariables" in one:
            if "ContentSid" not in one:
                found.append("ContentVariables needs ContentSid")
            try:
                variables = json.loads(one["ContentVariables"])
            except ValueError:
                variables = None
            if not isinstance(variables, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in variables.items()):
                found.append("ContentVariables must be a JSON object of strings")
        return found


def create_message_part(spec: dict) -> dict:
    """The part of Twilio's OpenAPI description that CreateMessage needs:
    its operation and the schemas its form fields refer to."""
    operation = spec["paths"][MESSAGES]["post"]
    body = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    names = sorted({p["$ref"].rsplit("/", 1)[1] for p in body["properties"].values() if "$ref" in p})
    return {
        "info": {**spec["info"], "x-extract": "the CreateMessage operation only; see twilio/twilio-oai (MIT licence)"},
        "paths": {MESSAGES: {"post": operation}},
        "components": {"schemas": {name: spec["components"]["schemas"][name] for name in names}},
    }


def value_problems(schema: dict, value: str) -> list[str]:
    kind, fmt = schema.get("type", "string"), schema.get("format")
    if kind == "integer" and not _INTEGER.match(value):
        return [f"{value!r} is not an integer"]
    if kind == "number":
        try:
            float(value)
        except ValueError:
            return [f"{value!r} is not a number"]
    if kind == "boolean" and value not in ("true", "false"):
        return [f"{value!r} is not true or false"]
    found = []
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{value!r} is not one of {schema['enum']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        found.append(f"{value!r} does not match {schema['pattern']}")
    if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", 1 << 30):
        found.append(f"{value!r} has the wrong length")
    ignore = schema.get("x-twilio", {}).get("ignoreFormat")
    if fmt == "phone-number" and not _PHONE.match(value):
        found.append(f"{value!r} is not an E.164 number or channel address")
    elif fmt == "uri" and not ignore:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or "_" in parts.hostname:
            found.append(f"{value!r} is not a URL with a valid host name")
    elif fmt == "date-time":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            found.append(f"{value!r} is not an ISO 8601 date-time")
    return found


# -- the REST server ----------------------------------------------------------------


@dataclass
class Recorded:
    """One Messages.json request as Twilio received it."""

    params: dict[str, list[str]]
    problems: list[str]
    status: int
    sid: str | None = None

    @property
    def form(self) -> dict[str, str]:
        return {name: values[0] for name, values in self.params.items()}

    @property
    def to(self) -> str:
        return self.form.get("To", "")

    @property
    def body(self) -> str:
        return self.form.get("Body", "")


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    schema: MessagesSchema = field(default_factory=MessagesSchema)
    requests: list[Recorded] = field(default_factory=list)
    delay: float = 0.0  # seconds before each answer, as a slow Twilio would take
    _errors: list[tuple[int, int, str]] = field(default_factory=list)
    _outage: tuple[int, int, str] | None = None
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(self, status: int, code: int, message: str = "error", *, problem: bool = False, detail: str | None = None) -> None:
        """Answer the next request with this error instead of accepting it;
        ``problem``: in RFC 9457 form (``type``, ``title``, ``status``,
        ``code``, and ``detail`` when given), as Twilio's newer APIs answer."""
        self._errors.append((status, code, message, problem, detail))

    def down(self, status: int, code: int, message: str = "Service unavailable") -> None:
        """Answer every request with this error until :meth:`up`."""
        self._outage = (status, code, message, False, None)

    def up(self) -> None:
        self._outage = None

    @property
    def problems(self) -> list[str]:
        return [problem for request in self.requests for problem in request.problems]

    def sent_to(self, address: str) -> list[Recorded]:
        return [r for r in self.requests if r.to == address and r.status == 201]

    def answer(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict]:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, _error(401, 20003, "Authentication Error - invalid username")
        match = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/Messages\.json", path)
        if method != "POST" or match is None:
            return 404, _error(404, 20404, f"The requested resource {path} was not found")
        problems = value_problems(self.schema.account_sid, match.group(1))
        if match.group(1) != self.account_sid:
            problems.append("the AccountSid in the path is not the account authenticated")
        if not headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            problems.append(f"Content-Type is {headers.get('Content-Type')!r}, not a form")
        params = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        problems += self.schema.problems(params)
        if problems:
            self.requests.append(Recorded(params, problems, 400))
            return 400, _error(400, 21602 if "Body" in " ".join(problems) else 20001, "; ".join(problems))
        if self._errors or self._outage:
            status, code, message, problem, detail = self._outage or self._errors.pop(0)
            self.requests.append(Recorded(params, [], status))
            return status, _problem(status, code, message, detail) if problem else _error(status, code, message)
        sid = new_sid("MM" if "MediaUrl" in params else "SM")
        self.requests.append(Recorded(params, [], 201, sid))
        return 201, self._resource(sid, {k: v[0] for k, v in params.items()})

    def _resource(self, sid: str, form: dict[str, str]) -> dict:
        now = format_datetime(datetime.now().astimezone())
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"
        return {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "body": form.get("Body", ""),
            "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": form.get("From"), "to": form["To"],
            "messaging_service_sid": form.get("MessagingServiceSid"), "num_media": "0", "num_segments": "1",
            "price": None, "price_unit": "USD", "sid": sid, "status": "queued", "uri": uri,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
        }

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(fake.delay)
                status, payload = fake.answer(self.command, self.path, self.headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, *args):  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- the webhook half: what Twilio posts to us --------------------------------

    def webhook(self, fixture: str, **fields: str) -> dict[str, str]:
        """A saved payload with ``fields`` changed (None leaves a field out); a new MessageSid unless given."""
        form = dict(parse_qsl((FIXTURES / f"{fixture}.txt").read_text("utf-8").strip(), keep_blank_values=True))
        if "MessageSid" not in fields and not fixture.startswith("status"):
            sid = new_sid(form["MessageSid"][:2])
            fields = {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, **fields}
        if "From" in fields and not fixture.startswith("status"):
            fields.setdefault("WaId", fields["From"].removeprefix("whatsapp:+"))
        return {name: value for name, value in {**form, **fields}.items() if value is not None}

    def signature(self, url: str, form: dict[str, str]) -> str:
        return RequestValidator(self.auth_token).compute_signature(url, form)

    async def post(self, client, path: str, form: dict[str, str], *, signature: str | None = None, public_url: str = PUBLIC_URL, headers=None):
        """Post ``form`` to our app at ``path``, signed as Twilio signs it."""
        signature = self.signature(public_url + path, form) if signature is None else signature
        sent = {"X-Twilio-Signature": signature} if signature else {}
        return await client.post(path, data=form, headers={**sent, **(headers or {})})


def _error(status: int, code: int, message: str) -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def _problem(status: int, code: int, title: str, detail: str | None) -> dict:
    """RFC 9457 problem details, the form the twilio library reads as a TwilioServiceException."""
    problem = {"type": f"https://www.twilio.com/docs/errors/{code}", "title": title, "status": status, "code": code}
    return problem | ({"detail": detail} if detail is not None else {})


@pytest.fixture
def fake_twilio():
    twilio = FakeTwilio().start()
    yield twilio
    twilio.stop()


# -- our bot, wired to this Twilio ----------------------------------------------------


@dataclass
class WhatsAppBot:
    """Our real ASGI app with WhatsApp on, over its store, sending to the fake Twilio."""

    http: httpx.AsyncClient
    twilio: FakeTwilio
    bot: object  # bot.wiring.Bot
    webhook: object  # handlers.whatsapp.WhatsAppWebhook

    @property
    def database(self):
        return self.bot.database

    async def post(self, path: str, form: dict[str, str], **kw) -> httpx.Response:
        return await self.twilio.post(self.http, path, form, **kw)

    async def deliver(self) -> list[Recorded]:
        """Run the outbox until nothing is due; what Twilio was sent meanwhile."""
        before = len(self.twilio.requests)
        while await self.bot.outbox.deliver_due():
            pass
        return self.twilio.requests[before:]


class Phone:
    """A citizen's WhatsApp: she sends through Twilio, and reads what Twilio delivers."""

    def __init__(self, bot, number: str, name: str):
        self.bot, self.address, self.name = bot, f"whatsapp:{number}", name
        self.read: list = []

    async def send(self, text: str = "", fixture: str = "text", **fields) -> str:
        form = self.bot.twilio.webhook(fixture, From=self.address, ProfileName=self.name, Body=text, **fields)
        response = await self.bot.post("/whatsapp", form)
        assert response.status_code == 200, response.text
        return await self.receive()

    async def receive(self) -> str:
        self.read = [r for r in await self.bot.deliver() if r.to == self.address]
        return self.screen

    @property
    def screen(self) -> str:
        return "\n".join(r.body for r in self.read)

    async def onboard(self, language: str, latitude: float, longitude: float) -> None:
        """Hello, a language by its number in the list (4 is Español), a
        shared location, consent. A Spanish hello is greeted in Spanish: any
        other language is picked through "🌐 Otro idioma"."""
        greeting = await self.send("Hola")
        if language != "4":
            other = re.search(r"(\d+)\. 🌐", greeting)
            await self.send(other.group(1) if other else language)
            if other:
                await self.send(language)
        await self.send("", "location", Latitude=str(latitude), Longitude=str(longitude), Address="", Label="")
        await self.send("1")


@asynccontextmanager
async def whatsapp_bot(database_url: str, twilio: FakeTwilio, *, templates: dict[str, str] | None = None, **settings):
    """``settings``: more of :func:`handlers.whatsapp.connect`'s, or others than ours (``sender=""``)."""
    from bot.settings import Settings
    from bot.web import create_app
    from bot.wiring import build
    from handlers.whatsapp import connect

    bot = build(Settings(database_url=database_url))
    webhook = connect(
        bot.engine, bot.outbox, bot.database, account_sid=twilio.account_sid, auth_token=twilio.auth_token,
        api_base_url=twilio.url, templates=TEMPLATES if templates is None else templates,
        **{"public_url": PUBLIC_URL, "sender": OUR_NUMBER, "status_callback": f"{PUBLIC_URL}/whatsapp/status", **settings},
    )
    app = create_app(bot, whatsapp=webhook)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8080") as http:
        yield WhatsAppBot(http, twilio, bot, webhook)
    await webhook.close()
    bot.database.dispose()
