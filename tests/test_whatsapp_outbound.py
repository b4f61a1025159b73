"""Sending on WhatsApp: the real twilio client talks HTTP to the loopback
fake Twilio, which checks every request against Twilio's OpenAPI
description. Inside the 24-hour window replies go free-form; outside it as
the approved template for their kind, or held (with the reason) until the
citizen writes again. Twilio's errors are sorted; nothing is dropped."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from bot.message_rows import outbound_values
from flows.messages import Outgoing
from notifications.senders import SendResult
from handlers.whatsapp_sender import WhatsAppSender, twilio_client
from storage.db import session_scope
from storage.models import Conversation, Identity, Message, utcnow
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, OPENAPI, OUR_NUMBER, TEMPLATES, fake_twilio, whatsapp_bot  # noqa: F401

ROSA = "whatsapp:+5492215550134"


@pytest.fixture
async def bot(database_url, fake_twilio):  # noqa: F811
    async with whatsapp_bot(database_url, fake_twilio) as bot:
        await bot.post("/whatsapp", fake_twilio.webhook("text"))  # Rosa writes first
        await bot.deliver()
        yield bot


def queue(database, text: str, **fields) -> int:
    """A message put in the outbox the way staff answers and announcements are."""
    with session_scope(database) as session:
        citizen_id = session.get(Identity, ROSA).citizen_id
        row = Message(**outbound_values(Outgoing(ROSA, text, **fields), citizen_id, None))
        session.add(row)
        session.flush()
        return row.id


def message(database, message_id: int) -> Message:
    with session_scope(database) as session:
        return session.get(Message, message_id)


def last_wrote(database, hours_ago: float):
    with session_scope(database) as session:
        conversation = session.get(Conversation, ROSA)
        conversation.last_inbound_at = when = utcnow() - timedelta(hours=hours_ago)
        session.add(conversation)
    return when


async def test_inside_the_window_a_long_answer_goes_free_form_in_pieces(bot):
    answer = "La cuadrilla revisó el transformador de su calle y lo reemplazará mañana. " * 40
    message_id = queue(bot.database, answer)
    sent = await bot.deliver()
    assert len(sent) == 2 and all(len(r.body) <= 1600 for r in sent)
    assert {(r.form["From"], r.to) for r in sent} == {(OUR_NUMBER, ROSA)}
    assert not any("MessagingServiceSid" in r.form for r in sent)  # a number sends as itself
    assert message(bot.database, message_id).external_id == sent[-1].sid  # reports follow the last piece
    assert bot.twilio.problems == []


async def test_outside_the_window_an_answer_goes_as_the_approved_template(bot):
    last_wrote(bot.database, hours_ago=25)
    message_id = queue(bot.database, "Su reclamo fue resuelto.", template="reply", template_variables={"1": "KX7-4MP", "2": "Su reclamo\nfue resuelto."})
    [sent] = await bot.deliver()
    assert sent.form["ContentSid"] == TEMPLATES["reply"] and "Body" not in sent.form
    assert json.loads(sent.form["ContentVariables"]) == {"1": "KX7-4MP", "2": "Su reclamo fue resuelto."}
    assert message(bot.database, message_id).status == "sent"
    assert message(bot.database, message_id).external_id == sent.sid  # so its delivery reports find it
    assert bot.twilio.problems == []


async def test_a_message_with_no_kind_outside_the_window_is_a_reply_with_its_text(bot):
    last_wrote(bot.database, hours_ago=30)
    queue(bot.database, "Hola Rosa, ¿pudo conseguir el turno?")
    [sent] = await bot.deliver()
    assert sent.form["ContentSid"] == TEMPLATES["reply"]
    assert json.loads(sent.form["ContentVariables"]) == {"1": "Hola Rosa, ¿pudo conseguir el turno?"}


async def test_with_no_template_it_is_held_with_the_reason_and_sent_when_the_citizen_writes(bot, caplog):
    caplog.set_level(logging.INFO, logger="notifications")
    wrote = last_wrote(bot.database, hours_ago=48)
    held_id = queue(bot.database, "Mañana pasa la unidad móvil por su barrio.", template="broadcast")
    assert await bot.deliver() == []
    held = message(bot.database, held_id)
    assert held.status == "held" and held.attempts == 0
    assert held.error == (f"held: the WhatsApp 24-hour window is closed (the citizen last wrote {wrote:%Y-%m-%d %H:%M} UTC) "
                          "and WHATSAPP_TEMPLATES has no template for 'broadcast'; it goes out when the citizen writes again")
    assert any(f"message {held_id} " in r.getMessage() and "held until the citizen writes (24-hour window closed, no template for 'broadcast')"
               in r.getMessage() for r in caplog.records)
    assert await bot.deliver() == []  # and it stays held, not retried in a loop

    await bot.post("/whatsapp", bot.twilio.webhook("text", Body="menu"))
    sent = await bot.deliver()
    assert "Mañana pasa la unidad móvil por su barrio." in [r.body for r in sent]
    assert message(bot.database, held_id).status == "sent"
    assert bot.twilio.problems == []


def never_wrote(database) -> None:
    """Like a citizen linked from Telegram: a WhatsApp number, no message from it."""
    with session_scope(database) as session:
        conversation = session.get(Conversation, ROSA)
        conversation.last_inbound_at = None
        session.add(conversation)


async def test_a_citizen_who_never_wrote_on_whatsapp_is_outside_the_window(bot):
    never_wrote(bot.database)
    queue(bot.database, "Su reclamo fue resuelto.", template="reply", template_variables={"1": "KX7-4MP", "2": "Resuelto."})
    [sent] = await bot.deliver()
    assert sent.form["ContentSid"] == TEMPLATES["reply"] and "Body" not in sent.form  # never free-form
    held_id = queue(bot.database, "Mañana pasa la unidad móvil por su barrio.", template="broadcast")
    assert await bot.deliver() == []
    held = message(bot.database, held_id)
    assert held.status == "held" and held.error == (
        "held: the WhatsApp 24-hour window is closed (the citizen has never written here) "
        "and WHATSAPP_TEMPLATES has no template for 'broadcast'; it goes out when the citizen writes again")


async def test_a_citizen_who_blocked_the_sender_is_not_written_to_again(bot):
    first, second = queue(bot.database, "Primera"), queue(bot.database, "Segunda")
    bot.twilio.fail_next(400, 21610, "Attempt to send to unsubscribed recipient")
    await bot.deliver()
    assert message(bot.database, first).status == "failed" and "21610" in message(bot.database, first).error
    assert message(bot.database, second).error == "contact blocked the bot"
    with session_scope(bot.database) as session:
        assert session.get(Identity, ROSA).blocked_at is not None


@pytest.mark.parametrize("status, code", [(429, 20429), (400, 63018), (500, 20500), (503, 20503)])
async def test_throttling_and_server_errors_are_retried_with_back_off(bot, status, code):
    message_id = queue(bot.database, "Su turno es el martes.")
    bot.twilio.fail_next(status, code, "try later")
    assert await bot.deliver() != []
    retried = message(bot.database, message_id)
    assert retried.status == "retry" and f"Twilio {code}" in retried.error
    assert retried.next_attempt_at > utcnow()


async def test_any_other_error_fails_with_twilios_reason(bot):
    message_id = queue(bot.database, "Hola")
    bot.twilio.fail_next(400, 21211, "Invalid 'To' Phone Number")
    await bot.deliver()
    failed = message(bot.database, message_id)
    assert failed.status == "failed" and "Twilio 21211" in failed.error and "Invalid 'To' Phone Number" in failed.error


async def test_twilio_out_of_reach_is_retried(bot):
    sender = bot.bot.outbox.senders["whatsapp"]
    sender.client.http_client.base_url = "http://127.0.0.1:9"  # nothing listens there
    message_id = queue(bot.database, "Hola")
    await bot.deliver()
    assert message(bot.database, message_id).status == "retry"


async def test_a_messaging_service_can_send_instead_of_a_number(fake_twilio):  # noqa: F811
    client = twilio_client(ACCOUNT_SID, AUTH_TOKEN, fake_twilio.url)
    service = "MG" + "c3" * 16
    sender = WhatsAppSender(client, last_inbound=lambda address: utcnow(), messaging_service_sid=service)
    result = await sender.send(Outgoing(ROSA, "Hola"))
    assert result.status == "sent" and fake_twilio.requests[-1].form["MessagingServiceSid"] == service
    assert "From" not in fake_twilio.requests[-1].form and fake_twilio.problems == []
    await client.http_client.close()


async def test_the_fake_twilio_holds_requests_to_twilios_own_description(fake_twilio):  # noqa: F811
    """A test of the test double (the fake Twilio), not of the product."""
    client = twilio_client(ACCOUNT_SID, AUTH_TOKEN, fake_twilio.url)
    photos = ["https://bot.example.org/a.jpg", "https://bot.example.org/b.jpg"]
    await client.messages.create_async(to=ROSA, from_=OUR_NUMBER, media_url=photos)
    assert fake_twilio.requests[-1].params["MediaUrl"] == photos and fake_twilio.problems == []

    wrong = [
        {"To": ROSA, "From": OUR_NUMBER, "ContentSid": TEMPLATES["reply"], "ContentVariables": '["not", "an object"]'},
        {"To": ROSA, "From": OUR_NUMBER, "Body": "x" * 1601},
        {"To": "5492215550134", "From": OUR_NUMBER, "Body": "no plus"},
        {"To": ROSA, "From": OUR_NUMBER, "Body": "hi", "StatusCallback": "https://bad_host.example.org/s"},
        {"To": ROSA, "Body": "no sender"},
        {"To": ROSA, "From": OUR_NUMBER, "Body": "hi", "ContentSid": "HX123"},
        {"To": ROSA, "From": OUR_NUMBER, "Body": "hi", "Bodyy": "typo"},
    ]
    async with httpx.AsyncClient(base_url=fake_twilio.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as http:
        for form in wrong:
            response = await http.post(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", data=form)
            assert response.status_code == 400, form
        unauthorised = await http.post(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", data=wrong[1], auth=(ACCOUNT_SID, "wrong"))
        assert unauthorised.status_code == 401
    problems = [r.problems for r in fake_twilio.requests[1:]]
    assert ["ContentVariables must be a JSON object of strings"] in problems
    assert any("more than 1,600" in p for found in problems for p in found)
    assert any("Bodyy is not a CreateMessage parameter" in p for found in problems for p in found)
    await client.http_client.close()


def test_the_part_the_fake_checks_against_is_twilios_own_description():
    """The fake Twilio checks requests against an extract; the extract must
    be exactly what Twilio's whole description says of CreateMessage."""
    import gzip

    from tests.fake_twilio import CREATE_MESSAGE, create_message_part

    whole = json.loads(gzip.decompress(OPENAPI.read_bytes()).decode("utf-8"))
    assert whole["info"]["title"].startswith("Twilio")
    assert json.loads(CREATE_MESSAGE.read_text("utf-8")) == create_message_part(whole)


@pytest.mark.parametrize("code, status, expected", [
    (21610, 400, SendResult("blocked", error="Attempt to send to unsubscribed recipient", code="Twilio 21610 (HTTP 400)")),
    (63016, 400, SendResult("held", error="Attempt to send to unsubscribed recipient (the 24-hour window is closed: waiting for the citizen to write)",
                            code="Twilio 63016 (HTTP 400)")),
    (63018, 429, SendResult("retry", error="Attempt to send to unsubscribed recipient", code="Twilio 63018 (HTTP 429)")),
    (None, 503, SendResult("retry", error="Attempt to send to unsubscribed recipient", code="Twilio - (HTTP 503)")),
    (None, 500, SendResult("retry", error="Attempt to send to unsubscribed recipient", code="Twilio - (HTTP 500)")),
    (21211, 400, SendResult("failed", error="Attempt to send to unsubscribed recipient", code="Twilio 21211 (HTTP 400)")),
    (21211, None, SendResult("failed", error="Attempt to send to unsubscribed recipient", code="Twilio 21211")),
    (None, 499, SendResult("failed", error="Attempt to send to unsubscribed recipient", code="Twilio - (HTTP 499)")),
])
def test_each_twilio_error_is_sorted_with_its_code_for_the_logs(code, status, expected):
    from handlers.whatsapp_sender import sort_error

    assert sort_error(code, status, "Attempt to send to unsubscribed recipient") == expected


@pytest.mark.parametrize("length", [999, 1000, 1001, 5000])
def test_a_template_variable_is_one_line_of_at_most_1000_characters(length):
    from handlers.whatsapp_sender import MAX_VARIABLE, template_variables

    body = ("word\nword  " * length)[:length]
    [value] = template_variables(Outgoing("whatsapp:+5491100000000", body)).values()
    flat = " ".join(body.split())
    assert "\n" not in value and len(value) == min(len(flat), MAX_VARIABLE)
    assert value == flat if len(flat) <= MAX_VARIABLE else (value == flat[: MAX_VARIABLE - 1] + "…")


@pytest.mark.parametrize("status, code, detail, expected", [
    (400, 21211, "The number is not on WhatsApp", "failed"),
    (400, 21610, "The recipient opted out", "blocked"),  # sorted by Twilio's code: the contact is blocked
    (503, 20500, None, "retry"),  # sorted by the HTTP status
])
async def test_an_error_in_problem_form_is_sorted_like_any_other(bot, status, code, detail, expected):
    """Twilio's newer answers (RFC 9457: type, title, status, code, detail) come as another exception."""
    message_id = queue(bot.database, "Hola")
    bot.twilio.fail_next(status, code, "Twilio says no", problem=True, detail=detail)
    await bot.deliver()
    row = message(bot.database, message_id)
    assert row.status == ("failed" if expected == "blocked" else expected)
    assert row.error == f"Twilio {code}: Twilio says no {detail or ''}".strip()
    with session_scope(bot.database) as session:
        assert (session.get(Identity, ROSA).blocked_at is not None) == (expected == "blocked")


async def test_twilio_out_of_reach_is_logged_by_the_kind_of_failure(bot, caplog):
    sender = bot.bot.outbox.senders["whatsapp"]
    sender.client.http_client.base_url = "http://127.0.0.1:9"  # nothing listens there
    queue(bot.database, "Hola")
    with caplog.at_level(logging.INFO):
        await bot.deliver()
    assert any("ConnectError" in record.getMessage() for record in caplog.records)
    with session_scope(bot.database) as session:
        [row] = session.exec(select(Message).where(Message.direction == "out", Message.text == "Hola")).all()
        assert row.status == "retry" and row.error.startswith("ConnectError: ")


async def test_a_file_goes_as_a_link_to_it(bot):
    """WhatsApp attaches only what Twilio can fetch: the citizen's file (/mydata) goes as its one-time link."""
    message_id = queue(bot.database, "Aquí están sus datos.", document="tok-123")
    [sent] = await bot.deliver()
    assert sent.body == "Aquí están sus datos.\nhttps://bot.example.org/onewindow/mydata/tok-123"
    assert message(bot.database, message_id).status == "sent"


async def test_without_a_public_address_a_file_fails_with_the_reason(fake_twilio):  # noqa: F811
    client = twilio_client(ACCOUNT_SID, AUTH_TOKEN, fake_twilio.url)
    sender = WhatsAppSender(client, last_inbound=lambda address: utcnow(), sender=OUR_NUMBER)
    result = await sender.send(Outgoing(ROSA, "Aquí están sus datos.", document="tok-123"))
    assert result == SendResult.failed("no public URL (TWILIO_PUBLIC_URL) to link the file from")
    assert fake_twilio.requests == []
    await client.http_client.close()


async def test_the_window_closes_at_exactly_24_hours(fake_twilio):  # noqa: F811
    now = utcnow()
    client = twilio_client(ACCOUNT_SID, AUTH_TOKEN, fake_twilio.url)
    for wrote, kind in ((timedelta(hours=24) - timedelta(seconds=1), "Body"), (timedelta(hours=24), "ContentSid")):
        sender = WhatsAppSender(client, last_inbound=lambda address, wrote=wrote: now - wrote, sender=OUR_NUMBER,
                                templates=TEMPLATES, clock=lambda: now)
        assert (await sender.send(Outgoing(ROSA, "Hola", template="reply", template_variables={"1": "A", "2": "B"}))).status == "sent"
        assert kind in fake_twilio.requests[-1].form
    await client.http_client.close()


def test_a_sender_needs_a_number_or_a_messaging_service_and_takes_its_pace(caplog):
    client = twilio_client(ACCOUNT_SID, AUTH_TOKEN, "http://127.0.0.1:9")
    with pytest.raises(ValueError, match=r"^a WhatsApp sender \(TWILIO_WHATSAPP_FROM\) or TWILIO_MESSAGING_SERVICE_SID is needed$"):
        WhatsAppSender(client, last_inbound=lambda address: None)
    assert WhatsAppSender(client, last_inbound=lambda address: None, sender=OUR_NUMBER).per_second == 10.0
    assert WhatsAppSender(client, last_inbound=lambda address: None, sender=OUR_NUMBER, per_second=3).per_second == 3
    with caplog.at_level(logging.WARNING):
        WhatsAppSender(client, last_inbound=lambda address: None, sender=OUR_NUMBER,
                       templates={"reply": "HX" + "ab" * 16, "status": "my-status-template"})
    warned = [r.getMessage() for r in caplog.records if "WHATSAPP_TEMPLATES" in r.getMessage()]
    assert len(warned) == 1 and "'my-status-template' for 'status'" in warned[0]


async def test_a_twilio_that_never_answers_is_given_up_on_and_retried():
    """A connection that is accepted and then silent must not hold the outbox: the request times out."""
    import asyncio
    import socket

    from handlers.whatsapp_sender import HttpxTwilioClient

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    host, port = silent.getsockname()
    client = twilio_client(ACCOUNT_SID, AUTH_TOKEN)
    client.http_client = HttpxTwilioClient(f"http://{host}:{port}", timeout=0.3)
    sender = WhatsAppSender(client, last_inbound=lambda address: utcnow(), sender=OUR_NUMBER)
    try:
        result = await asyncio.wait_for(sender.send(Outgoing(ROSA, "Hola")), timeout=10)
        assert result.status == "retry" and result.code == "ReadTimeout"
    finally:
        await client.http_client.close()
        silent.close()


async def test_a_messaging_service_configured_for_the_bot_is_what_sends(database_url, fake_twilio):  # noqa: F811
    """``TWILIO_MESSAGING_SERVICE_SID`` reaches the sender the bot wires up (``connect``), with
    no number of its own; ``WHATSAPP_PER_SECOND`` the outbox's pace for it."""
    service = "MG" + "d4" * 16
    async with whatsapp_bot(database_url, fake_twilio, sender="", messaging_service_sid=service, per_second=4.0) as bot:
        assert bot.bot.outbox.limiters["whatsapp"].rate == 4.0  # WHATSAPP_PER_SECOND: the pace the outbox keeps
        with session_scope(bot.database) as session:
            session.add(Conversation(address=ROSA, last_inbound_at=utcnow()))  # she wrote a minute ago: inside the window
        result = await bot.bot.outbox.senders["whatsapp"].send(Outgoing(ROSA, "Hola"))
        assert result.status == "sent" and fake_twilio.requests[-1].form["MessagingServiceSid"] == service
        assert "From" not in fake_twilio.requests[-1].form and fake_twilio.problems == []


def test_a_sender_with_neither_a_number_nor_a_messaging_service_will_not_start():
    client = twilio_client(ACCOUNT_SID, AUTH_TOKEN, "http://127.0.0.1:9")
    with pytest.raises(ValueError) as refused:
        WhatsAppSender(client, last_inbound=lambda address: None)
    assert str(refused.value) == "a WhatsApp sender (TWILIO_WHATSAPP_FROM) or TWILIO_MESSAGING_SERVICE_SID is needed"
