"""The WhatsApp adapter on its own: Twilio's saved payloads become the
expected Incoming; replies become what WhatsApp can show; Twilio's errors
are sorted into what the outbox should do."""

from __future__ import annotations

import pytest

from flows.linking import normalize_phone, whatsapp_addresses
from flows.messages import Attachment, Choice, Location, Outgoing
from handlers.whatsapp import BadForm, to_incoming
from handlers.whatsapp_sender import MAX_BODY, pieces, render, sort_error, template_variables
from tests.fake_twilio import FakeTwilio

TWILIO = FakeTwilio()  # only its webhook half: the saved payloads


def incoming(fixture: str, **fields):
    return to_incoming(TWILIO.webhook(fixture, **fields))


def test_a_text_message():
    msg = incoming("text", MessageSid="SM1f0e2d3c4b5a69788796a5b4c3d2e1f0")
    assert (msg.channel, msg.address, msg.text) == ("whatsapp", "whatsapp:+5492215550134", "Hola, buenas tardes")
    assert msg.external_id == "SM1f0e2d3c4b5a69788796a5b4c3d2e1f0" and msg.name == "Rosa Giménez"
    assert msg.attachments == () and msg.location is None and msg.event is None
    assert msg.language_hint == "es"  # an Argentine number: Spanish is a safe first guess


def test_uzbek_cyrillic_with_emoji_arrives_intact():
    msg = incoming("unicode")
    assert msg.text == "Ассалому алайкум! 💡 Маҳалламизда 3 кундан бери свет йўқ 😞🕯️"
    assert msg.name == "Дилноза 🌸" and msg.address == "whatsapp:+998901234567"
    assert msg.language_hint is None  # the script, not the number, tells Uzbek from Russian


def test_a_photo_with_a_caption_keeps_the_reference_not_the_bytes():
    msg = incoming("image")
    assert msg.text == "Así está la calle, no hay luz"
    [photo] = msg.attachments
    assert photo.kind == "photo" and photo.mime_type == "image/jpeg"
    assert photo.ref.startswith("https://api.twilio.com/2010-04-01/Accounts/") and "/Media/ME" in photo.ref


def test_a_voice_note_is_a_voice_attachment():
    msg = incoming("voice")
    assert msg.text == "" and msg.attachments == (Attachment("voice", msg.attachments[0].ref, "audio/ogg"),)


@pytest.mark.parametrize("content_type, kind", [
    ("image/jpeg", "photo"),
    ("image/png", "photo"),
    ("audio/ogg", "voice"),                # a voice note recorded in WhatsApp
    ("audio/ogg; codecs=opus", "voice"),
    ("audio/opus", "voice"),
    ("audio/mpeg", "audio"),               # a song or a recording sent as a file
    ("audio/amr", "audio"),
    ("video/mp4", "video"),
    ("video/3gpp", "video"),
    ("application/pdf", "document"),
    ("text/vcard", "document"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "document"),
    ("image/jpeg; name=\"street/1.jpg\"", "photo"),  # a slash in a parameter is not the type
])
def test_each_kind_of_media_whatsapp_sends_is_named_for_what_it_is(content_type, kind):
    [attachment] = incoming("image", MediaContentType0=content_type).attachments
    assert (attachment.kind, attachment.mime_type) == (kind, content_type)


def test_a_shared_location_with_its_label():
    msg = incoming("location")
    assert msg.location == Location(-34.9214, -57.9544, "Plaza Moreno, La Plata, Buenos Aires", "Plaza Moreno")


def test_a_template_button_reply_reads_as_typed_words():
    msg = incoming("button")
    assert msg.text == "Sí, resuelto"  # matched against the choices shown, like a typed reply
    assert msg.event == {"type": "template_button", "payload": "resolved-yes"} and msg.button is None


def test_a_sticker_is_unsupported_not_a_photo():
    msg = incoming("image", MessageType="sticker", Body="", MediaContentType0="image/webp")
    assert msg.event == {"type": "unsupported", "kind": "sticker"} and msg.attachments == ()


@pytest.mark.parametrize("fields, reason", [
    ({"MessageSid": ""}, "MessageSid is missing"),
    ({"MessageSid": "not-a-sid"}, "MessageSid is not a Twilio message SID"),
    ({"From": ""}, "From is missing"),
    ({"From": "+5492215550134"}, "From is not a WhatsApp address"),
    ({"From": "whatsapp:+12"}, "From is not a WhatsApp address"),
    ({"NumMedia": "two"}, "NumMedia must be a number"),
    ({"NumMedia": "2"}, "MediaUrl1 is missing"),
    ({"Latitude": "north", "Longitude": "1"}, "Latitude and Longitude must both be numbers"),
    ({"Latitude": "95", "Longitude": "1"}, "out of range"),
])
def test_a_post_twilio_would_never_send_says_what_is_wrong(fields, reason):
    fixture = "image" if "NumMedia" in fields else "text"
    with pytest.raises(BadForm, match=reason):
        incoming(fixture, **fields)


def test_choices_become_a_numbered_list_after_the_text():
    message = Outgoing("whatsapp:+1", "Is that right?", (Choice("yes", "✅ Yes, send it"), Choice("no", "✖ Cancel")))
    assert render(message) == "Is that right?\n\n1. ✅ Yes, send it\n2. ✖ Cancel"


def test_a_long_text_is_cut_at_sentence_or_line_boundaries_under_1600():
    sentence = "Mahallamizda uch kundan beri elektr yo'q, iltimos yordam bering. "
    message = Outgoing("whatsapp:+1", sentence * 60, (Choice("menu", "⬅ Menu"),))
    parts = pieces(message)
    assert len(parts) == 3 and all(len(p) <= MAX_BODY for p in parts)
    assert all(p.endswith(".") for p in parts[:-1])  # whole sentences
    assert parts[-1].endswith("1. ⬅ Menu")  # the choices come last
    assert " ".join(parts).replace("\n\n1. ⬅ Menu", "").split() == (sentence * 60).split()


def test_template_variables_are_one_line_strings():
    assert template_variables(Outgoing("whatsapp:+1", "Line one\nline  two")) == {"1": "Line one line two"}
    assert template_variables(Outgoing("whatsapp:+1", "x", template_variables={"1": "KX7-4MP", "2": 5})) == {"1": "KX7-4MP", "2": "5"}


def test_a_template_variable_is_cut_only_past_its_limit():
    from handlers.whatsapp_sender import MAX_VARIABLE

    exactly = "a" * MAX_VARIABLE
    assert template_variables(Outgoing("whatsapp:+1", exactly)) == {"1": exactly}
    assert template_variables(Outgoing("whatsapp:+1", exactly + "b")) == {"1": "a" * (MAX_VARIABLE - 1) + "…"}


@pytest.mark.parametrize("code, status, outcome", [
    (21610, 400, "blocked"),  # the citizen blocked us or opted out
    (63018, None, "retry"),  # WhatsApp's rate limit for the sender
    (20429, 429, "retry"),
    (None, 429, "retry"),
    (20500, 500, "retry"),
    (None, 503, "retry"),
    (63016, None, "held"),  # WhatsApp says the 24-hour window is closed
    (21211, 400, "failed"),  # an invalid number
    (63024, None, "failed"),
])
def test_twilio_errors_are_sorted(code, status, outcome):
    result = sort_error(code, status, f"Twilio {code}")
    assert result.status == outcome and f"Twilio {code}" in result.error


@pytest.mark.parametrize("raw, e164", [
    ("998901234567", "+998901234567"),  # as Telegram gives it
    ("+998 90 123-45-67", "+998901234567"),
    ("00998901234567", "+998901234567"),
    ("+54 9 221 555-0134", "+5492215550134"),
    ("12", None),
])
def test_phone_numbers_are_read_into_e164(raw, e164):
    assert normalize_phone(raw) == e164


def test_an_argentine_number_without_the_mobile_9_is_looked_up_both_ways():
    assert whatsapp_addresses("+542215550134") == ("whatsapp:+5492215550134", "whatsapp:+542215550134")
    assert whatsapp_addresses("+998901234567") == ("whatsapp:+998901234567",)
