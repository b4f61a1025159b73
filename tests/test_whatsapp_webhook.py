"""Twilio's webhooks through the real ASGI app, on SQLite and PostgreSQL:
only signed posts are taken, bad ones are refused with the reason and leave
nothing behind, a replayed MessageSid is handled once, and delivery reports
move the stored message forward."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from storage.db import session_scope
from storage.models import Message
from tests.fake_twilio import PUBLIC_URL, fake_twilio, whatsapp_bot  # noqa: F401

ROSA = "whatsapp:+5492215550134"


@pytest.fixture
async def bot(database_url, fake_twilio):  # noqa: F811
    async with whatsapp_bot(database_url, fake_twilio) as bot:
        yield bot


def stored(database, direction: str | None = None) -> list[Message]:
    with session_scope(database) as session:
        query = select(Message).order_by(Message.id)
        if direction:
            query = query.where(Message.direction == direction)
        return list(session.exec(query))


async def test_a_signed_message_is_stored_answered_at_once_and_replied_to_through_the_api(bot):
    form = bot.twilio.webhook("text")
    response = await bot.post("/whatsapp", form)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml") and response.text.endswith("<Response></Response>")
    assert bot.twilio.requests == []  # nothing was sent during the request...
    [inbound] = stored(bot.database, "in")
    assert (inbound.external_id, inbound.address, inbound.text) == (form["MessageSid"], ROSA, "Hola, buenas tardes")
    sent = await bot.deliver()  # ...the outbox sends the reply
    assert [r.to for r in sent] == [ROSA, ROSA]  # a welcome in Spanish, then the place as a numbered list
    assert "¡Hola! Soy onewindow" in sent[0].body and "4. 🌐 Otro idioma" in sent[1].body
    assert bot.twilio.problems == []


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "wrong-url"])
async def test_an_unsigned_or_wrongly_signed_post_is_refused_and_nothing_is_stored(bot, signature):
    form = bot.twilio.webhook("text")
    if signature == "wrong-url":  # signed, but for the local URL instead of the public one Twilio uses
        signature = bot.twilio.signature("http://127.0.0.1:8080/whatsapp", form)
    response = await bot.post("/whatsapp", form, signature=signature)
    assert (response.status_code, response.text) == (403, "invalid or missing X-Twilio-Signature")
    assert stored(bot.database) == []


async def test_a_signature_over_other_fields_is_refused(bot):
    form = bot.twilio.webhook("text")
    signature = bot.twilio.signature(PUBLIC_URL + "/whatsapp", form)
    response = await bot.post("/whatsapp", {**form, "Body": "Pagar a la cuenta 123"}, signature=signature)
    assert response.status_code == 403 and stored(bot.database) == []


@pytest.mark.parametrize("fields, reason", [
    ({"MessageSid": ""}, "MessageSid is missing"),
    ({"From": ""}, "From is missing"),
    ({"From": "tel:+5492215550134"}, "From is not a WhatsApp address"),
    ({"NumMedia": "3"}, "MediaUrl1 is missing"),
    ({"Latitude": "-34.9", "Longitude": ""}, "Latitude and Longitude must both be numbers"),
])
async def test_a_signed_post_missing_what_every_message_has_is_a_bad_request(bot, fields, reason):
    form = bot.twilio.webhook("image", **fields)
    response = await bot.post("/whatsapp", form)
    assert response.status_code == 400 and reason in response.text
    assert stored(bot.database) == []  # nothing half-way


async def test_a_five_megabyte_body_is_refused_unread(bot):
    form = bot.twilio.webhook("text", Body="x" * 5_000_000)
    response = await bot.post("/whatsapp", form)
    assert (response.status_code, response.text) == (413, "request body too large")
    assert stored(bot.database) == []


async def test_a_body_that_is_not_utf8_is_a_bad_request(bot):
    response = await bot.http.post("/whatsapp", content=b"Body=Hola\xff&From=whatsapp%3A%2B5492215550134",
                                   headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "c2lnbmVk"})
    assert (response.status_code, response.text) == (400, "the body is not a UTF-8 form")
    assert stored(bot.database) == []


async def test_a_replayed_message_sid_is_handled_once(bot):
    form = bot.twilio.webhook("text")
    first = await bot.post("/whatsapp", form)
    again = await bot.post("/whatsapp", form)
    assert first.status_code == again.status_code == 200
    assert len(stored(bot.database, "in")) == 1
    assert len(stored(bot.database, "out")) == 2  # one welcome and one question, not two of each
    assert len(await bot.deliver()) == 2


async def test_behind_a_proxy_without_a_public_url_the_signed_url_is_rebuilt_from_forwarded_headers(bot):
    bot.webhook.public_url = ""
    form = bot.twilio.webhook("text")
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "bot.example.org", "X-Forwarded-Prefix": "/onewindow"}
    assert (await bot.post("/whatsapp", form, headers=headers)).status_code == 200
    assert (await bot.post("/whatsapp", bot.twilio.webhook("text"))).status_code == 403  # no headers: a different URL


async def test_delivery_reports_move_a_message_forward_and_never_back(bot):
    await bot.post("/whatsapp", bot.twilio.webhook("text"))
    *_, sent = await bot.deliver()
    assert sent.form["StatusCallback"] == f"{PUBLIC_URL}/whatsapp/status"

    async def report(status: str, **fields) -> str:
        form = bot.twilio.webhook("status_delivered", MessageSid=sent.sid, SmsSid=sent.sid, MessageStatus=status, SmsStatus=status, **fields)
        assert (await bot.post("/whatsapp/status", form)).status_code == 200
        return stored(bot.database, "out")[-1].status

    assert stored(bot.database, "out")[-1].status == "sent"
    assert await report("delivered") == "delivered"
    assert await report("sent") == "delivered"  # a late "sent" does not undo it
    assert await report("read") == "read"


async def test_an_undelivered_report_fails_the_message_with_twilios_error_code(bot):
    await bot.post("/whatsapp", bot.twilio.webhook("text"))
    *_, sent = await bot.deliver()
    form = bot.twilio.webhook("status_undelivered", MessageSid=sent.sid, SmsSid=sent.sid)
    assert (await bot.post("/whatsapp/status", form)).status_code == 200
    message = stored(bot.database, "out")[-1]
    assert message.status == "failed" and message.error == "undelivered: Twilio 63024"


async def test_a_rate_limit_report_sends_the_message_again_later(bot):
    await bot.post("/whatsapp", bot.twilio.webhook("text"))
    *_, sent = await bot.deliver()
    form = bot.twilio.webhook("status_undelivered", MessageSid=sent.sid, SmsSid=sent.sid, MessageStatus="failed", ErrorCode="63018")
    await bot.post("/whatsapp/status", form)
    message = stored(bot.database, "out")[-1]
    assert message.status == "retry" and "63018" in message.error and message.next_attempt_at is not None


async def test_reports_must_be_signed_and_complete_and_unknown_ones_are_ignored(bot):
    form = bot.twilio.webhook("status_delivered")
    assert (await bot.post("/whatsapp/status", form, signature="")).status_code == 403
    assert (await bot.post("/whatsapp/status", {**form, "MessageStatus": ""})).status_code == 400
    assert (await bot.post("/whatsapp/status", form)).status_code == 200  # a message we never sent


@pytest.mark.parametrize("headers", [
    # two proxies in a row: the first value of each list is the one the citizen's side used
    {"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "bot.example.org, 10.0.0.5:8080", "X-Forwarded-Prefix": "/onewindow/"},
    # a proxy that keeps the Host header and sends only the scheme and the prefix
    {"X-Forwarded-Proto": "https", "Host": "bot.example.org", "X-Forwarded-Prefix": "/onewindow"},
])
async def test_forwarded_headers_as_proxies_send_them_rebuild_the_signed_url(bot, headers):
    bot.webhook.public_url = ""
    assert (await bot.post("/whatsapp", bot.twilio.webhook("text"), headers=headers)).status_code == 200
    assert (await bot.post("/whatsapp", bot.twilio.webhook("text"), headers={**headers, "X-Forwarded-Prefix": "/other"})).status_code == 403


@pytest.mark.parametrize("fields, reason", [
    ({"MessageSid": "", "SmsSid": ""}, "MessageSid and MessageStatus are required"),
    ({"MessageStatus": "", "SmsStatus": ""}, "MessageSid and MessageStatus are required"),
    ({"MessageSid": None, "SmsSid": None}, "MessageSid and MessageStatus are required"),  # not sent at all
    ({"MessageStatus": None, "SmsStatus": None}, "MessageSid and MessageStatus are required"),
    ({"MessageSid": "XX123", "SmsSid": "XX123"}, "MessageSid is not a Twilio message SID"),
])
async def test_a_delivery_report_without_its_fields_is_refused_with_the_reason(bot, fields, reason):
    response = await bot.post("/whatsapp/status", bot.twilio.webhook("status_delivered", **fields))
    assert (response.status_code, response.text) == (400, reason)


@pytest.mark.parametrize("headers, expected", [
    # No proxy: the address the request came to; with no Host header at all (HTTP/1.0), the server's own.
    ({"host": "bot.example.org:8080"}, "http://bot.example.org:8080"),
    ({}, "http://10.0.0.5:8080"),
    # One proxy: its scheme, host and path prefix (a trailing slash is not doubled).
    ({"host": "10.0.0.5:8080", "x-forwarded-proto": "https", "x-forwarded-host": "bot.example.org",
      "x-forwarded-prefix": "/onewindow/"}, "https://bot.example.org/onewindow"),
    ({"host": "bot.example.org", "x-forwarded-prefix": "/BOX/"}, "http://bot.example.org/BOX"),
    # A chain of proxies lists the first (the one Twilio reached) first; spaces around commas are not part of it.
    ({"host": "10.0.0.5", "x-forwarded-proto": " https , http", "x-forwarded-host": " bot.example.org , 10.0.0.4"},
     "https://bot.example.org"),
    # Only the scheme forwarded: the Host header still names the server.
    ({"host": "bot.example.org", "x-forwarded-proto": "https"}, "https://bot.example.org"),
])
def test_the_url_twilio_signed_is_rebuilt_from_the_proxys_headers(headers, expected):
    from starlette.requests import Request

    from handlers.whatsapp import _forwarded_base

    scope = {"type": "http", "scheme": "http", "server": ("10.0.0.5", 8080), "path": "/whatsapp", "query_string": b"",
             "headers": [(name.encode(), value.encode()) for name, value in headers.items()]}
    assert _forwarded_base(Request(scope)) == expected


async def test_messages_posted_at_once_share_commits_and_each_is_stored_once_before_its_answer(bot):
    """Group commit: posts that come while a batch is handled wait for the
    next one; each is answered only once its message is in the store."""
    engine, batches = bot.bot.engine, []
    handle_together = engine.handle_together

    def counted(messages, **kwargs):
        batches.append(len(messages))
        done = handle_together(messages, **kwargs)
        assert {m.external_id for m in stored(bot.database, "in")} >= {m.external_id for m in messages}
        return done

    engine.handle_together = counted
    forms = [bot.twilio.webhook("text", From=f"whatsapp:+54922155502{n:02d}") for n in range(12)]
    answers = await asyncio.gather(*(bot.post("/whatsapp", form) for form in forms))
    assert {a.status_code for a in answers} == {200}
    assert sum(batches) == 12 and len(batches) < 12  # not twelve commits
    assert sorted(m.external_id for m in stored(bot.database, "in")) == sorted(form["MessageSid"] for form in forms)


def test_without_twilios_auth_token_the_webhook_will_not_start():
    """With no token no signature can be checked: refusing to start beats taking every post."""
    from handlers.whatsapp import WhatsAppWebhook

    with pytest.raises(ValueError) as refused:
        WhatsAppWebhook(None, None, None, "")
    assert str(refused.value) == "TWILIO_AUTH_TOKEN is needed to check Twilio's signatures"


async def test_a_webhook_closes_cleanly_without_its_sending_half(database_url):
    """The server closes the webhook on the way out, also when WhatsApp's sending half was never joined."""
    from bot.settings import Settings
    from bot.wiring import build
    from handlers.whatsapp import WhatsAppWebhook

    bot = build(Settings(database_url=database_url))
    try:
        webhook = WhatsAppWebhook(bot.engine, bot.outbox, bot.database, "an-auth-token")
        await webhook.close()
        assert webhook.sender is None
    finally:
        bot.database.dispose()
