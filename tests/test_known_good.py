"""Checks that agree with the outside world, not only with themselves: a
signature from Twilio's own documentation, and an update from the Bot API's."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from handlers.telegram import to_incoming
from handlers.whatsapp import WhatsAppWebhook

# Twilio's documented example (Webhooks security: "Validating signatures from
# Twilio"): this URL, these parameters and the auth token 12345 are signed
# RSOYDt4T1cUTdK1PDd93/VVr8B8=.
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
                 "From": "+14158675309", "To": "+18005551212"}
TWILIO_TOKEN = "12345"
TWILIO_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def posted(path_and_query: str, form: dict, signature: str) -> Request:
    """The request as it reaches us behind a proxy: an inside host, Twilio's path and query."""
    body = urlencode(form).encode()
    path, _, query = path_and_query.partition("?")
    scope = {
        "type": "http", "method": "POST", "path": path, "query_string": query.encode(), "scheme": "http",
        "server": ("127.0.0.1", 8000), "headers": [(b"host", b"127.0.0.1:8000"), (b"x-twilio-signature", signature.encode()),
                                                   (b"content-type", b"application/x-www-form-urlencoded")],
    }
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


async def test_twilios_documented_signature_is_accepted_and_a_changed_one_refused():
    webhook = WhatsAppWebhook(None, None, None, TWILIO_TOKEN, public_url="https://mycompany.com")
    accepted = await webhook._signed_form(posted("/myapp.php?foo=1&bar=2", TWILIO_PARAMS, TWILIO_SIGNATURE), "/myapp.php")
    assert accepted == TWILIO_PARAMS
    for forged in ("RSOYDt4T1cUTdK1PDd93/VVr8B9=", ""):
        refused = await webhook._signed_form(posted("/myapp.php?foo=1&bar=2", TWILIO_PARAMS, forged), "/myapp.php")
        assert isinstance(refused, Response) and refused.status_code == 403
    tampered = {**TWILIO_PARAMS, "Digits": "1235"}
    refused = await webhook._signed_form(posted("/myapp.php?foo=1&bar=2", tampered, TWILIO_SIGNATURE), "/myapp.php")
    assert isinstance(refused, Response) and refused.status_code == 403


# The Update of the Bot API documentation's webhook example (core.telegram.org/bots/webhooks,
# "Testing your bot with updates": a private text message).
BOT_API_UPDATE = json.loads("""{
  "update_id": 10000,
  "message": {
    "date": 1441645532,
    "chat": {"last_name": "Test Lastname", "id": 1111111, "type": "private", "first_name": "Test Firstname", "username": "Testusername"},
    "message_id": 1365,
    "from": {"last_name": "Test Lastname", "id": 1111111, "is_bot": false, "first_name": "Test Firstname", "username": "Testusername"},
    "text": "/start"
  }
}""")


def test_the_bot_api_documentation_update_becomes_a_message():
    from telegram import Update

    update = Update.de_json(BOT_API_UPDATE, None)
    msg = to_incoming(update)
    assert msg.channel == "telegram" and msg.address == "telegram:1111111"
    assert msg.text == "/start" and msg.external_id == "10000"
    assert msg.name == "Test Firstname Test Lastname" and msg.private
    assert msg.received_at.year == 2015  # 1441645532 is 7 September 2015
