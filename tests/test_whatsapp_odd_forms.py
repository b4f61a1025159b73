"""Odd values in Twilio's signed form posts, field by field, through the real
ASGI app on SQLite and PostgreSQL: each is either refused with a 400 that
says why (and nothing is stored) or taken, stored once and answered. Never a
500: Twilio does not send a message again after one, so it would be lost."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.db import session_scope
from storage.models import Message
from tests.fake_twilio import fake_twilio, whatsapp_bot  # noqa: F401

MEDIA = "https://api.twilio.com/2010-04-01/Accounts/AC5ef8732a3c49700934481addd5ce1659/Messages/MM1/Media/ME1"
HUGE = "9" * 5000  # more digits than int() converts


def shown(field: str, value: str) -> str:
    """A test id in plain ASCII with no backslash: pytest cannot find an id
    like `Body='\\x00'` again when it is named on its command line (as
    `make mutate` names each mutant's tests)."""
    plain = "".join(c if " " <= c <= "~" and c != "\\" else f"<U+{ord(c):04X}>" for c in value)
    return f"{field}='{plain[:24]}'"


@pytest.fixture
async def bot(database_url, fake_twilio):  # noqa: F811
    async with whatsapp_bot(database_url, fake_twilio) as bot:
        yield bot


def stored(database, direction: str) -> list[Message]:
    with session_scope(database) as session:
        return list(session.exec(select(Message).where(Message.direction == direction).order_by(Message.id)))


REFUSED = [
    ({"NumMedia": "²"}, "NumMedia must be a number from 0 to 10"),  # '²'.isdigit() is True
    ({"NumMedia": "٣"}, "NumMedia must be a number from 0 to 10"),  # an Arabic-Indic three
    ({"NumMedia": "１"}, "NumMedia must be a number from 0 to 10"),  # full-width
    ({"NumMedia": HUGE}, "NumMedia must be a number from 0 to 10"),
    ({"NumMedia": "-1"}, "NumMedia must be a number from 0 to 10"),
    ({"NumMedia": "1.0"}, "NumMedia must be a number from 0 to 10"),
    ({"NumMedia": "11"}, "NumMedia must be a number from 0 to 10"),
    ({"NumMedia": "1", "MediaUrl0": ""}, "MediaUrl0 is missing"),
    ({"NumMedia": "2"}, "MediaUrl1 is missing"),
    ({"NumMedia": "1", "MediaUrl0": "javascript:alert(1)"}, "MediaUrl0 is not a URL"),
    ({"NumMedia": "1", "MediaUrl0": "https://"}, "MediaUrl0 is not a URL"),
    ({"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/x\x00y"}, "MediaUrl0 is not a URL"),
    ({"Latitude": "NaN", "Longitude": "68.7"}, "Latitude and Longitude must both be numbers"),
    ({"Latitude": "40.5", "Longitude": "inf"}, "Latitude and Longitude must both be numbers"),
    ({"Latitude": "1e999", "Longitude": "1"}, "Latitude and Longitude must both be numbers"),
    ({"Latitude": HUGE, "Longitude": "1"}, "Latitude and Longitude must both be numbers"),
    ({"Latitude": "٤٠", "Longitude": "68"}, "Latitude and Longitude must both be numbers"),
    ({"Latitude": "4_0", "Longitude": "68"}, "Latitude and Longitude must both be numbers"),
    ({"Latitude": "40.5"}, "Latitude and Longitude must both be numbers"),
    ({"Longitude": "68.7"}, "Latitude and Longitude must both be numbers"),
    ({"Latitude": "91", "Longitude": "0"}, "Latitude or Longitude is out of range"),
    ({"Latitude": "0", "Longitude": "-180.5"}, "Latitude or Longitude is out of range"),
    ({"MessageSid": "SM" + "０" * 32}, "MessageSid is not a Twilio message SID"),
    ({"MessageSid": "SM2b3c4d5e6f708192a3b4c5d6e7f80912\x00"}, "MessageSid is not a Twilio message SID"),
    ({"MessageSid": "SM2b3c4d5e6f708192a3b4c5d6e7f80912\nX"}, "MessageSid is not a Twilio message SID"),
    ({"From": "whatsapp:+" + HUGE}, "From is not a WhatsApp address"),
    ({"From": "whatsapp:+54\x00922155501"}, "From is not a WhatsApp address"),
    ({"From": "whatsapp:+²"}, "From is not a WhatsApp address"),
    ({"From": "whatsapp:"}, "From is not a WhatsApp address"),
]


@pytest.mark.parametrize("fields, reason", REFUSED, ids=[shown(*next(iter(f.items()))) for f, _ in REFUSED])
async def test_an_odd_value_twilio_would_never_send_is_refused_with_the_reason(bot, fields, reason):
    response = await bot.post("/whatsapp", bot.twilio.webhook("image", **fields))
    assert response.status_code == 400 and reason in response.text
    assert stored(bot.database, "in") == []


TAKEN = [
    ({"Body": "Hola\x00, no hay luz"}, {"text": "Hola, no hay luz"}),
    ({"Body": "\x00"}, {"text": ""}),
    ({"ProfileName": "Ro\x00sa\x07"}, {"name": "Rosa"}),
    ({"ProfileName": "R" * 5000}, {"name": "R" * 200}),
    ({"Body": "x" * 30_000}, {"text": "x" * 30_000}),
    ({"NumMedia": ""}, {"attachments": 0}),
    ({"NumMedia": "0", "MediaUrl0": MEDIA}, {"attachments": 0}),
    ({"NumMedia": "1", "MediaUrl0": MEDIA, "MediaContentType0": ""}, {"kind": "document"}),
    ({"NumMedia": "1", "MediaUrl0": MEDIA, "MediaContentType0": "image"}, {"kind": "photo"}),
    ({"NumMedia": "1", "MediaUrl0": MEDIA, "MediaContentType0": "audio/ogg; codecs=opus\x00"}, {"kind": "voice"}),
    ({"MessageType": "sticker", "Body": "", "NumMedia": "0"}, {"event": "unsupported"}),
    ({"MessageType": "reaction", "Body": "", "NumMedia": "0"}, {"event": "unsupported"}),
    ({"MessageType": "\x00" * 3, "Body": "", "NumMedia": "0"}, {"text": ""}),
    ({"MessageType": "interactive" * 1000, "Body": "Hola"}, {"text": "Hola"}),
    ({"MessageType": "location", "Body": "", "NumMedia": "0"}, {"text": ""}),  # no place after all: "no words"
    ({"Latitude": "-34.6037", "Longitude": "-58.3816", "Label": "Casa\x00", "Address": "\x00"}, {"label": "Casa"}),
    ({"Latitude": "+40", "Longitude": "68"}, {"latitude": 40.0}),
    ({"Latitude": "-90", "Longitude": "180"}, {"latitude": -90.0}),  # the pole and the antimeridian are on the map
    ({"ButtonPayload": "yes\x00", "ButtonText": "Sí"}, {"payload": "yes"}),
    ({"From": "whatsapp:+5492215550134 "}, {"text": "Así está la calle, no hay luz"}),
]


@pytest.mark.parametrize("fields, expect", TAKEN, ids=[shown(*next(iter(f.items()))) for f, _ in TAKEN])
async def test_an_odd_but_readable_value_is_taken_stored_once_and_answered(bot, fields, expect):
    form = bot.twilio.webhook("image", **fields)
    response = await bot.post("/whatsapp", form)
    assert response.status_code == 200, response.text
    assert (await bot.post("/whatsapp", form)).status_code == 200  # Twilio trying again changes nothing
    [row] = stored(bot.database, "in")
    assert len(stored(bot.database, "out")) >= 1  # an answer, whatever it was
    payload = row.payload
    for key, value in expect.items():
        match key:
            case "text":
                assert row.text == value
            case "name":
                assert payload["name"] == value
            case "attachments":
                assert len(payload.get("attachments", [])) == value
            case "kind":
                assert payload["attachments"][0]["kind"] == value
            case "event":
                assert payload["event"]["type"] == value
            case "label" | "latitude":
                assert payload["location"][key] == value
            case "payload":
                assert payload["event"]["payload"] == value


STATUS_REFUSED = [
    ({"MessageSid": ""}, "MessageSid and MessageStatus are required"),
    ({"MessageStatus": ""}, "MessageSid and MessageStatus are required"),
    ({"MessageSid": "SM92a3b4c5d6e7f8091a2b3c4d5e6f7081\x00"}, "MessageSid is not a Twilio message SID"),
    ({"MessageSid": "x" * 5000}, "MessageSid is not a Twilio message SID"),
]


@pytest.mark.parametrize("fields, reason", STATUS_REFUSED)
async def test_an_odd_delivery_report_is_refused_with_the_reason(bot, fields, reason):
    response = await bot.post("/whatsapp/status", bot.twilio.webhook("status_undelivered", **fields))
    assert response.status_code == 400 and reason in response.text


@pytest.mark.parametrize("fields, error", [
    ({"ErrorCode": "²"}, "undelivered: Twilio error"),
    ({"ErrorCode": HUGE}, "undelivered: Twilio error"),
    ({"ErrorCode": "-1"}, "undelivered: Twilio error"),
    ({"ErrorCode": "63024", "ErrorMessage": "bad\x00 number"}, "undelivered: Twilio 63024: bad number"),
    ({"MessageStatus": "exploded\x00"}, None),  # a status we do not know: nothing changes
    ({"ErrorCode": "63024", "ErrorMessage": "x" * 600}, "undelivered: Twilio 63024: " + "x" * 500),  # kept to 500
    ({"ErrorCode": None, "ErrorMessage": None}, "undelivered: Twilio error"),  # neither field sent
])
async def test_odd_values_in_a_delivery_report_are_read_safely(bot, fields, error):
    await bot.post("/whatsapp", bot.twilio.webhook("text"))
    *_, sent = await bot.deliver()
    form = bot.twilio.webhook("status_undelivered", MessageSid=sent.sid, SmsSid=sent.sid, **fields)
    assert (await bot.post("/whatsapp/status", form)).status_code == 200
    message = stored(bot.database, "out")[-1]
    if error is None:
        assert message.status == "sent"
    else:
        assert message.status == "failed" and message.error == error
