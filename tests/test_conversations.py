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
def engine(database, catalog):
    return Engine(database, catalog)


@pytest.fixture
def ana(engine):
    return Chat(engine, "ana")


GULISTAN = (40.4897, 68.7842)


def onboard(chat: Chat, language: str = "English") -> None:
    """Hello, a language, a shared location, consent."""
    chat.send("hello")
    chat.press(language)
    chat.share_location(*GULISTAN)
    chat.press("yes")


def test_a_newcomer_is_welcomed_in_every_language_and_asked_to_pick_one(ana):
    ana.send("hello")
    assert "Hello!" in ana.text and "Здравствуйте" in ana.text or "Assalomu" in ana.text
    assert ana.choices == ["O'zbekcha", "Ўзбекча", "Русский", "Español", "English"]


def test_onboarding_through_the_menus(ana, database):
    ana.send("hello")
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
    ana.send("hello")
    ana.press("English")
    ana.press("Jizzakh")
    ana.press("Zomin")
    ana.press("Back")
    assert "Choose your place in Jizzakh Region" in ana.text
    ana.press("Zomin")
    ana.press("not listed")
    assert "Saved: Zomin" in ana.text


def test_a_shared_location_finds_the_nearest_place(ana):
    ana.send("hello")
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
    bobur.press("O'zbekcha")
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
    assert len(chat.choices) == 6  # back at the main menu
    chat.press(chat.choices[2])  # status by code
    chat.send(menu)
    assert len(chat.choices) == 6


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
    assert len(ana.choices) == 6  # and the bot keeps serving


def test_a_stale_button_is_recognised(ana):
    ana.send("hello")
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
