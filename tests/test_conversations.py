"""Citizens talking to the bot through the engine and the store (SQLite and
PostgreSQL): "the citizen says X, the bot answers Y"."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.engine import Engine
from storage.db import session_scope
from storage.models import Citizen, Conversation, Message, Request, RequestEvent
from tests.conversation import Chat


@pytest.fixture
def ana(engine):
    return Chat(engine, "ana")


GULISTAN = (40.4897, 68.7842)


def onboard(chat: Chat, language: str = "English") -> None:
    """A first word, a language, a shared location, consent."""
    chat.send("/start")
    chat.press(language)
    chat.share_location(*GULISTAN)
    chat.press("yes")


def test_a_newcomer_whose_language_nothing_tells_is_welcomed_in_every_language(ana):
    ana.send("/start")
    for welcome in ("Hello! I am onewindow", "Здравствуйте! Я onewindow", "Assalomu alaykum!", "¡Hola!"):
        assert welcome in ana.text
    assert ana.choices == ["O'zbekcha", "Ўзбекча", "Русский", "Español", "English"]


def test_onboarding_through_the_menus(ana, database):
    ana.send("/start")
    ana.press("English")
    assert ana.choices == ["Syrdarya Region", "Jizzakh Region", "Buenos Aires Province"]
    ana.press("Syrdarya")
    ana.press("Guliston District")
    assert "Choose your place in Guliston District" in ana.text
    ana.send("dehqonobod")  # typed, not pressed
    assert "Saved: Dehqonobod, Guliston District, Syrdarya Region." in ana.text
    ana.press("yes")
    assert "What would you like to do?" in ana.text
    with session_scope(database) as session:
        assert session.exec(select(Citizen)).one().locality_id == "uz-syr-gulistan-d-dehqonobod"


def test_a_village_not_listed_keeps_the_district_and_back_goes_up(ana, database):
    ana.send("/start")
    ana.press("English")
    ana.press("Jizzakh")
    ana.press("Zomin")
    ana.press("Back")
    assert "Choose your place in Jizzakh Region" in ana.text
    ana.press("Zomin")
    ana.press("not listed")
    assert "What is your village or neighbourhood called?" in ana.text
    ana.send("Yangiobod")
    assert "Saved: Zomin" in ana.text and "«Yangiobod»" in ana.text


def test_a_shared_location_finds_the_nearest_place(ana):
    ana.send("/start")
    ana.press("Español")
    ana.share_location(-34.9214, -57.9544)  # La Plata
    assert "La Plata" in ana.text


def test_onboarding_then_a_request_gets_a_tracking_code(ana, database):
    onboard(ana)
    assert "What would you like to do?" in ana.text

    ana.send("There is no electricity in our street for three days")
    assert "I understood this as: Utilities" in ana.text
    ana.press("Yes, send it")
    assert "Tracking code:" in ana.text
    code = ana.handled.request_codes[0]

    with session_scope(database) as session:
        request = session.exec(select(Request).where(Request.code == code)).one()
        assert request.category_id == "utilities"
        assert request.status == "new"
        assert request.locality_id.startswith("uz-syr-")
        events = session.exec(select(RequestEvent).where(RequestEvent.request_id == request.id)).all()
        assert [(e.kind, e.to_status) for e in events] == [("created", "new")]

    ana.send(code.lower().replace("-", " "))
    assert f"Request {code}" in ana.text and "Status: received" in ana.text


def test_a_citizen_can_change_the_category_the_bot_suggested(ana, database):
    onboard(ana)
    ana.send("my passport is lost, I need a new one")
    ana.press("Another topic")
    ana.press("Health")
    code = ana.handled.request_codes[0]
    with session_scope(database) as session:
        request = session.exec(select(Request).where(Request.code == code)).one()
        assert (request.category_id, request.suggested_category_id) == ("health", "id_documents")


def test_a_request_written_before_onboarding_is_kept_and_filed_after_it(engine, database):
    bobur = Chat(engine, "bobur")
    bobur.send("Assalomu alaykum, mahallamizda 3 kundan beri svet yo'q")
    assert "Assalomu alaykum! Men onewindow" in bobur.text  # greeted in Uzbek, the language he wrote in
    bobur.share_location(*GULISTAN)
    bobur.press("yes")
    # no need to write it again: the bot asks to confirm the topic it understood
    assert "Kommunal" in bobur.text
    bobur.press(bobur.choices[0])
    with session_scope(database) as session:
        request = session.exec(select(Request)).one()
        assert request.text == "Assalomu alaykum, mahallamizda 3 kundan beri svet yo'q"
        assert (request.category_id, request.language) == ("utilities", "uz")


@pytest.mark.parametrize(
    "language, cancel, menu",
    [("Русский", "Отмена", "меню"), ("O'zbekcha", "bekor", "menyu"), ("Ўзбекча", "бекор", "меню"), ("Español", "cancelar", "menú"), ("English", "cancel", "Menu")],
)
def test_menu_and_cancel_work_from_any_step_in_every_language(engine, language, cancel, menu):
    chat = Chat(engine, f"polyglot-{language}")
    onboard(chat, language)
    chat.press(chat.choices[0])  # a new request
    assert not chat.choices  # the bot waits for the description
    chat.send(cancel)
    assert len(chat.choices) == 8  # back at the main menu
    chat.press(chat.choices[2])  # status by code
    chat.send(menu)
    assert len(chat.choices) == 8


def test_state_survives_a_restart(database, catalog):
    first = Engine(database, catalog)
    chat = Chat(first, "carla")
    onboard(chat, "Español")
    chat.send("no hay agua en el barrio desde ayer")
    # the process stops here; a new one starts with the same store
    from bot.catalog import Catalog

    chat.engine = Engine(database, Catalog.from_store(database))
    chat.press(chat.choices[0])
    assert chat.handled.request_codes


def test_the_same_update_delivered_twice_is_handled_once(ana, database):
    ana.send("hello", external_id="update-1")
    assert ana.replies
    ana.send("hello", external_id="update-1")
    assert ana.handled.duplicate and not ana.replies
    with session_scope(database) as session:
        inbound = session.exec(select(Message).where(Message.direction == "in")).all()
        assert len(inbound) == 1


def test_a_failing_flow_apologises_and_keeps_the_message_for_a_person(ana, database, monkeypatch):
    onboard(ana)
    import flows.menu

    def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setattr(flows.menu, "answer", broken)
    ana.send("something the menu cannot take")
    assert "Sorry, something went wrong" in ana.text
    with session_scope(database) as session:
        kept = session.exec(select(Message).where(Message.status == "needs_attention")).one()
        assert kept.text == "something the menu cannot take" and "boom" in kept.error
    monkeypatch.undo()
    ana.send("menu")
    assert len(ana.choices) == 8  # and the bot keeps serving


def test_a_stale_button_is_recognised(ana):
    ana.send("/start")
    old_menu = list(ana.replies)
    ana.press("English")
    ana.replies = old_menu
    ana.press("Español")  # pressed on the old language menu
    assert "earlier menu" in ana.text


def test_consent_is_stored(ana, database):
    onboard(ana)
    with session_scope(database) as session:
        citizen = session.exec(select(Citizen)).one()
        assert citizen.consent is True and citizen.consent_at is not None and citizen.language == "en"
        conversation = session.get(Conversation, ana.address)
        assert (conversation.flow, conversation.step) == ("menu", "main")


def test_a_request_with_a_photo_and_a_place(ana, database):
    onboard(ana)
    ana.press("New request")
    ana.send_file("photo", "photo-123")
    assert "describe the problem in a few words" in ana.text
    ana.share_location(40.49, 68.78)
    ana.send("The road by the school is full of potholes")
    assert "Roads" in ana.text
    ana.press("Yes, send it")
    with session_scope(database) as session:
        request = session.exec(select(Request)).one()
        assert request.category_id == "roads_infrastructure"
        assert request.attachments == [{"kind": "photo", "ref": "photo-123", "mime_type": None, "size": None, "name": None}]
        assert (request.latitude, request.longitude) == (40.49, 68.78)


def test_a_voice_note_alone_is_taken_and_flagged_for_a_person(ana, database):
    onboard(ana)
    ana.press("New request")
    ana.send_file("voice", "voice-1")
    assert "a person will listen to it" in ana.text
    ana.press("Social")
    assert ana.handled.request_codes
    with session_scope(database) as session:
        flagged = session.exec(select(Message).where(Message.status == "needs_attention")).one()
        assert flagged.request_id is not None


def test_my_requests_lists_them_and_each_is_a_tap_away(ana):
    onboard(ana)
    ana.send("No water in the house since Monday")
    ana.press("Yes, send it")
    first = ana.handled.request_codes[0]
    ana.send("The street lights are broken on our road")
    ana.press("Yes, send it")
    second = ana.handled.request_codes[0]
    ana.press("My requests")
    assert first in ana.text and second in ana.text
    assert ana.text.index(second) < ana.text.index(first)  # newest first
    ana.press(first)
    assert f"Request {first}" in ana.text and "No water in the house" in ana.text


def test_an_unknown_code_is_said_so(ana):
    onboard(ana)
    ana.press("Status by code")
    ana.send("not a code at all")
    assert "does not look like a tracking code" in ana.text
    ana.send("ZZZ-999")
    assert "I found no request with the code ZZZ-999" in ana.text


def test_talk_to_a_person_files_a_contact_request(ana, database):
    onboard(ana)
    ana.press("Talk to a person")
    ana.send("I want to speak with someone about my pension")
    assert "passed to our staff" in ana.text
    with session_scope(database) as session:
        request = session.exec(select(Request)).one()
        assert (request.kind, request.category_id) == ("contact", "other")


def test_declining_consent_then_filing_asks_again(engine, database):
    chat = Chat(engine, "dana")
    chat.send("hi")
    chat.share_location(*GULISTAN)  # greeted in English
    chat.press("No")
    assert "we will not keep your details" in chat.text
    chat.send("There is no gas in our village since yesterday")
    chat.press("Yes, send it")
    assert "Do you agree?" in chat.text
    chat.press("Yes, I agree")
    assert chat.handled.request_codes
    with session_scope(database) as session:
        assert session.exec(select(Citizen)).one().consent is True


def test_language_and_place_can_be_changed_later(ana, database):
    onboard(ana)
    ana.press("Language and place")
    ana.press("Language")
    ana.press("Español")
    assert "Guardado." in ana.text and "¿Qué desea hacer?" in ana.text
    with session_scope(database) as session:
        assert session.exec(select(Citizen)).one().language == "es"
