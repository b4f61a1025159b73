"""Characters a store refuses (NUL, lone surrogates, other control
characters) are cleaned at the door: the message is kept, answered, and its
original kept escaped beside it — on SQLite and on PostgreSQL, whose text
and JSON columns refuse NUL."""

from __future__ import annotations

import math

import pytest
from sqlmodel import select

from flows.messages import Attachment, Incoming, Location
from flows.storable import escaped, storable, storable_text
from handlers.staff.team import add
from storage.db import session_scope
from storage.models import Citizen, Message, Request
from tests.conversation import Chat
from tests.test_conversations import onboard


def inbound(database) -> list[Message]:
    with session_scope(database) as session:
        return list(session.exec(select(Message).where(Message.direction == "in").order_by(Message.id)))


def queued(database, address: str) -> list[Message]:
    with session_scope(database) as session:
        return list(session.exec(select(Message).where(Message.direction == "out", Message.address == address)))


# -- the cleaning itself, no store ------------------------------------------------------------

@pytest.mark.parametrize("raw, clean", [
    ("Suv yo'q", "Suv yo'q"),
    ("Нет\x00 воды", "Нет воды"),
    ("a\tb\nc\r\n", "a\tb\nc\r\n"),  # layout stays
    ("bell\x07 esc\x1b[A del\x7f c1\x85", "bell esc[A del c1"),
    ("сало\udcd0", "сало\ufffd"),  # a cut character, as surrogateescape reads it
    ("\ud83d alone", "\ufffd alone"),
    ("👍🏽 ok‍", "👍🏽 ok‍"),  # emoji and joiners are not controls
])
def test_storable_text_removes_controls_and_marks_lone_surrogates(raw, clean):
    assert storable_text(raw) == clean
    assert storable_text(clean) == clean


def test_the_escaped_copy_is_storable_and_says_what_was_there():
    assert escaped("a\x00b\\c\udcd0") == "a\\x00b\\\\c\\udcd0"
    assert storable_text(escaped("a\x00\udcd0")) == escaped("a\x00\udcd0")


def test_a_clean_message_is_passed_on_untouched():
    msg = Incoming("telegram", "telegram:1", "Salom", external_id="1", name="Ali", event={"type": "button", "data": "3|uz"},
                   attachments=(Attachment("photo", "f1", "image/jpeg", 10, "a.jpg"),), location=Location(40.5, 68.7, label="Bozor"))
    assert storable(msg) is msg


def test_every_string_in_a_message_is_cleaned_and_its_original_kept():
    msg = Incoming(
        "telegram", "telegram:1", "suv\x00", external_id="1", name="Al\x00i",
        event={"type": "button", "data": "3|\udcffuz", "nested": ["x\x00"]},
        attachments=(Attachment("document", "f1", "application/pdf", None, "ariza\x00.pdf"),),
        location=Location(40.5, 68.7, address="Guliston\x00", label="Bo\udce2zor"),
    )
    clean = storable(msg)
    assert (clean.text, clean.name) == ("suv", "Ali")
    assert clean.event == {"type": "button", "data": "3|\ufffduz", "nested": ["x"]}
    assert clean.attachments[0].name == "ariza.pdf"
    assert (clean.location.address, clean.location.label) == ("Guliston", "Bo\ufffdzor")
    assert clean.originals == {
        "text": "suv\\x00", "name": "Al\\x00i", "event.data": "3|\\udcffuz", "event.nested.0": "x\\x00",
        "attachments.0.name": "ariza\\x00.pdf", "location.address": "Guliston\\x00", "location.label": "Bo\\udce2zor",
    }
    assert storable(clean) == clean  # once is enough


@pytest.mark.parametrize("latitude, longitude", [(math.nan, 68.7), (40.5, math.inf), (-math.inf, 0.0)])
def test_a_location_that_is_not_a_place_is_dropped_and_noted(latitude, longitude):
    clean = storable(Incoming("console", "console:x", "", location=Location(latitude, longitude)))
    assert clean.location is None and clean.originals["location"] == f"{latitude!r}, {longitude!r}"


# -- through the engine and the store ---------------------------------------------------------

def test_a_message_with_nul_is_kept_answered_and_its_original_kept(engine, database):
    chat = Chat(engine, "olga")
    onboard(chat, "Русский")
    chat.send("Нет воды\x00 уже неделю")
    assert not chat.handled.failed and "Я понял это так" in chat.text
    row = inbound(database)[-1]
    assert row.text == "Нет воды уже неделю" and row.status == "processed"
    assert row.payload["original"] == {"text": "Нет воды\\x00 уже неделю"}
    chat.press(chat.choices[0])
    with session_scope(database) as session:
        assert session.exec(select(Request)).one().text == "Нет воды уже неделю"


def test_a_first_message_with_nul_in_the_text_and_the_name_is_kept_and_greeted(engine, database):
    chat = Chat(engine, "nul", channel="whatsapp", name="Ro\x00sa")
    chat.send("Hola\x00, buenas")
    assert not chat.handled.failed and "¡Hola! Soy onewindow" in chat.text and "🌐 Otro idioma" in chat.choices
    [row] = inbound(database)
    assert row.payload["name"] == "Rosa" and row.payload["original"] == {"text": "Hola\\x00, buenas", "name": "Ro\\x00sa"}
    with session_scope(database) as session:
        assert session.exec(select(Citizen)).one().display_name == "Rosa"


def test_a_line_cut_mid_character_is_kept_and_answered(engine, database):
    chat = Chat(engine, "cut")
    onboard(chat)
    cut = "No water in the house, please help " * 100 + "сало".encode()[:-1].decode("utf-8", "surrogateescape")
    chat.send(cut)
    assert not chat.handled.failed and "I understood this as" in chat.text
    row = inbound(database)[-1]
    assert row.text.endswith("сал\ufffd") and row.payload["original"]["text"].endswith("сал\\udcd0")


def test_nul_in_a_file_name_a_caption_a_place_label_and_button_data(engine, database):
    chat = Chat(engine, "files", channel="telegram")
    onboard(chat)
    chat.send("Hujjat\x00 ilova qildim", attachments=(Attachment("document", "doc-1", "application/pdf", 3, "pasport\x00.pdf"),))
    chat.send(location=Location(40.49, 68.78, label="Bozor\x00", address="\udcffGuliston"))
    chat.send(event={"type": "button", "data": "99|\x00nothing"})
    rows = inbound(database)[-3:]
    assert [r.status for r in rows] == ["processed"] * 3
    assert rows[0].payload["attachments"][0]["name"] == "pasport.pdf"
    assert rows[0].payload["original"] == {"text": "Hujjat\\x00 ilova qildim", "attachments.0.name": "pasport\\x00.pdf"}
    assert rows[1].payload["location"]["label"] == "Bozor" and rows[1].payload["original"]["location.address"] == "\\udcffGuliston"
    assert rows[2].payload["original"] == {"event.data": "99|\\x00nothing"}
    assert "That button belongs to an earlier menu" in chat.text


def test_a_staff_command_with_nul_is_kept_and_run(engine, database):
    with session_scope(database) as session:
        add(session, "console:karim", "caseworker", "utilities", "Karim")
    karim = Chat(engine, "karim")
    karim.send("/inbox\x00")
    assert karim.replies and not karim.handled.failed
    [row] = inbound(database)
    assert row.text == "/inbox" and row.payload["original"] == {"text": "/inbox\\x00"}
