"""A citizen's rights over their data, as conversations with the engine and
the store (SQLite and PostgreSQL): refusing consent, seeing what we keep
(``/mydata``) and taking it home as a file, being forgotten (``/forget``),
and tracking codes that tell nothing to anyone but their owner."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.privacy import file_for_link, file_for_upload
from flows.actions import SendMyData
from handlers.staff.team import add
from notifications import retention
from notifications.scheduler import Scheduler
from storage import privacy
from storage.db import session_scope
from storage.models import Citizen, Conversation, DataExport, Identity, Message, Request, RequestEvent, utcnow
from tests.conversation import Chat, pushed

GULISTAN = (40.4897, 68.7842)
ROSA = "+5492215550134"


@pytest.fixture
def rosa(engine):
    return Chat(engine, ROSA, channel="whatsapp", name="Rosa Giménez")


def onboard(chat: Chat, language: str = "Español", consent: str = "yes") -> None:
    chat.press(language)
    chat.share_location(*GULISTAN)
    chat.press(consent)


def file_request(chat: Chat, words: str) -> str:
    chat.send(words)
    chat.send("1")
    return chat.handled.request_codes[0]


def stored_messages(database, address: str | None = None, citizen_id: int | None = None) -> list[Message]:
    with session_scope(database) as session:
        statement = select(Message).order_by(Message.id)
        rows = session.exec(statement).all()
        return [m for m in rows if (address and m.address == address) or (citizen_id and m.citizen_id == citizen_id)]


def citizen_of(database, address: str) -> Citizen | None:
    with session_scope(database) as session:
        identity = session.get(Identity, address)
        return session.get(Citizen, identity.citizen_id) if identity else None


# -- refusing consent -------------------------------------------------------------

def test_declining_consent_keeps_only_the_refusal_and_the_bot_still_answers(rosa, database):
    rosa.send("Hola, soy Rosa Giménez, vivo en Calle Falsa 123 y no tengo agua")
    assert "¡Hola! Soy onewindow" in rosa.text  # greeted in Spanish: no list of languages
    rosa.share_location(*GULISTAN)
    rosa.press("no")
    assert "no vamos a guardar sus datos" in rosa.text

    citizen = citizen_of(database, rosa.address)
    assert (citizen.display_name, citizen.locality_id, citizen.consent) == (None, None, False)
    assert citizen.consent_at is not None and citizen.language == "es"
    kept = stored_messages(database, citizen_id=citizen.id)
    assert len(kept) > 6  # the rows stay (counts, dates), their words do not
    words = " ".join(m.text + json.dumps(m.payload, ensure_ascii=False) for m in kept if m.direction == "in" or m.status != "queued")
    for personal in ("Falsa", "Rosa", "Giménez", "Gulistan", "Guliston", "68.78"):
        assert personal not in words
    with session_scope(database) as session:
        assert "pending_text" not in (session.get(Conversation, rosa.address).data or {})

    # She is not asked again at every message, and the bot still answers her.
    rosa.send("menú")
    assert "Nueva solicitud" in " ".join(rosa.choices)
    rosa.send("mis datos")
    assert "Nombre: —" in rosa.text and "Lugar: —" in rosa.text and "negado el" in rosa.text
    # What she writes afterwards is answered, not kept.
    rosa.send("menú")
    rosa.send("Mi vecino de Calle Falsa 125 tampoco tiene agua")
    assert "¿Es correcto?" in rosa.text
    assert all("Falsa" not in m.text for m in stored_messages(database, rosa.address) if m.direction == "in")


def test_declining_when_filing_a_request_forgets_the_draft(engine, database):
    ana = Chat(engine, "ana")
    ana.send("/start")
    onboard(ana, "English", consent="no")
    ana.send("The water pipe at Main Street 12 has burst, my name is Ana Ruiz")
    ana.press("Yes, send it")
    assert "must keep your name" in ana.text
    ana.press("No")
    assert "not registered" in ana.text
    citizen = citizen_of(database, ana.address)
    assert all("Main Street" not in m.text for m in stored_messages(database, ana.address))
    assert citizen.consent is False


# -- /mydata ------------------------------------------------------------------------

def test_mydata_from_the_middle_of_a_request_then_back_where_she_was(rosa, database):
    rosa.send("/start")
    onboard(rosa)
    code = file_request(rosa, "No hay agua en la calle desde el lunes")
    rosa.send("STOP")
    rosa.send("Y también se cayó un árbol sobre la vereda")
    rosa.press("Otro tema")  # in the middle of choosing the topic of a second request
    step_before = _step(database, rosa.address)

    rosa.send("Mis datos")
    summary = rosa.text
    assert "Esto es lo que guardamos sobre usted:" in summary
    assert "Nombre: Rosa Giménez" in summary and "Idioma: Español" in summary and "Lugar: Guliston" in summary
    assert "WhatsApp +54922****134" in summary and ROSA not in summary
    assert "Consentimiento para guardar sus datos: dado el" in summary and "Avisos: dados de baja el" in summary
    assert f"• {code} — " in summary and "recibida" in summary
    assert "Mensajes guardados:" in summary
    assert rosa.choices == ["📄 Enviarme el archivo", "🗑 Borrar mis datos", "⬅ Volver"]

    rosa.press("Volver")
    assert _step(database, rosa.address) == step_before == ("request", "choose")


def _step(database, address: str) -> tuple[str, str]:
    with session_scope(database) as session:
        conversation = session.get(Conversation, address)
        return conversation.flow, conversation.step


@pytest.mark.parametrize("words, language, greeting", [
    ("/mydata", "en", "This is what we keep about you"),
    ("мои данные", "ru", "Вот что мы храним о вас"),
    ("mening ma'lumotlarim", "uz", "Siz haqingizda saqlayotganlarimiz"),
    ("менинг маълумотларим", "uz-Cyrl", "Сиз ҳақингизда сақлаётганларимиз"),
    ("MIS DATOS", "es", "Esto es lo que guardamos"),
])
def test_mydata_in_every_language_even_before_onboarding(engine, words, language, greeting):
    newcomer = Chat(engine, f"new-{language}")
    newcomer.send(words)
    assert greeting in newcomer.text


def test_the_file_holds_everything_and_its_link_works_once_within_the_hour(rosa, database):
    rosa.send("/start")
    onboard(rosa)
    code = file_request(rosa, "Se cortó la luz en la calle Rivadavia 450")
    rosa.send("mis datos")
    rosa.press("archivo")
    [file_message] = [r for r in rosa.replies if r.document]
    assert "JSON" in file_message.text and "una sola vez" in file_message.text
    token = file_message.document
    assert token != SendMyData.PLACEHOLDER and len(token) > 20
    with session_scope(database) as session:
        [export] = session.exec(select(DataExport)).all()
        assert export.token_hash != token  # only a hash is kept

    name, body = file_for_link(database)(token)
    data = json.loads(body)
    assert name.startswith("my-data-") and name.endswith(".json")
    assert data["citizen"]["name"] == "Rosa Giménez" and data["citizen"]["language"] == "es"
    assert data["channels"][0]["address"] == f"whatsapp:{ROSA}"
    [request] = data["requests"]
    assert request["code"] == code and "Rivadavia 450" in request["text"] and request["history"][0]["what"] == "created"
    assert any("Rivadavia" in m["text"] for m in data["messages"] if m["direction"] == "in")

    assert file_for_link(database)(token) is None  # once
    assert file_for_link(database)("not-a-token") is None
    rosa.send("mis datos")
    rosa.press("archivo")
    later = next(r.document for r in rosa.replies if r.document)
    with session_scope(database) as session:
        assert privacy.take_export(session, later, utcnow() + timedelta(minutes=61)) is None  # an hour at most
    assert file_for_upload(database)(later) is not None  # an upload never leaves the server: no hour to keep


# -- /forget ---------------------------------------------------------------------

@pytest.fixture
def staff(database):
    with session_scope(database) as session:
        add(session, "console:karim", "caseworker", "utilities", "Karim")


def test_forget_me_erases_her_and_tells_the_caseworker_and_keeps_the_figures(engine, database, staff, rosa):
    rosa.send("/start")
    onboard(rosa)
    open_code = file_request(rosa, "No hay agua en Calle Falsa 123, llamar al 221 555 0134")
    closed_code = file_request(rosa, "Un pozo enorme en la esquina de mi casa en Calle Falsa")
    rosa.share_location(40.49, 68.78)
    karim = Chat(engine, "karim")
    karim.send(f"/take {open_code}")
    karim.send(f"/reply {open_code} Mañana pasa la cuadrilla por Calle Falsa 123")
    karim.send(f"/take {closed_code}")
    karim.send(f"/close {closed_code} Arreglado en Calle Falsa")
    pushed(database, rosa)
    rosa.press("Sí")
    rosa.press("5")
    pushed(database, karim)
    citizen_id = citizen_of(database, rosa.address).id

    rosa.send("borrar mis datos")
    assert "¿Borramos sus datos?" in rosa.text
    rosa.press("No, guardarlos")
    assert "No se borró nada." in rosa.text and citizen_of(database, rosa.address).display_name == "Rosa Giménez"

    rosa.send("/forget")
    rosa.press("Sí, borrar")
    assert "borramos sus datos personales" in rosa.text

    with session_scope(database) as session:
        citizen = session.get(Citizen, citizen_id)
        assert citizen.erased_at is not None and (citizen.display_name, citizen.locality_id) == (None, None)
        assert session.exec(select(Identity).where(Identity.citizen_id == citizen_id)).all() == []
        assert session.exec(select(DataExport)).all() == []
        requests = session.exec(select(Request).where(Request.citizen_id == citizen_id).order_by(Request.id)).all()
        assert [r.code for r in requests] == [open_code, closed_code]  # kept for the figures...
        for r in requests:  # ...with nothing personal left
            assert (r.text, r.attachments, r.latitude, r.longitude, r.address, r.resolution) == ("", [], None, None, "", None)
            assert r.anonymized_at is not None and r.category_id and r.created_at
            assert r.locality_id == "uz-syr-gulistan-c"  # the district (the city), not the neighbourhood
        assert requests[1].status == "closed" and requests[1].rating == 5
        events = session.exec(select(RequestEvent).where(RequestEvent.request_id.in_([r.id for r in requests]))).all()
        assert all("Falsa" not in (e.note or "") for e in events)
        assert sum(e.kind == "anonymized" for e in events) == 2
        everything = session.exec(select(Message)).all()
    for m in everything:
        if m.address != rosa.address:
            assert "Falsa" not in m.text and ROSA not in m.address and "0134" not in json.dumps(m.payload)
    last_turn = [m for m in everything if m.address == rosa.address]
    assert all(m.citizen_id is None and m.direction == "out" for m in last_turn)  # only the goodbye, unattached

    told = " ".join(m.text for m in pushed(database, karim))
    assert f"Solicitud {open_code}" not in told and f"Request {open_code}: the citizen asked us to delete their data" in told
    assert closed_code not in told  # closed: nobody holds it

    # Her number no longer leads anywhere: she starts again as someone new.
    rosa.send("Hola")
    assert "¡Hola! Soy onewindow" in rosa.text and "🌐 Otro idioma" in rosa.choices  # welcomed as a newcomer
    assert citizen_of(database, rosa.address).id != citizen_id
    karim.send(f"/show {open_code}")
    assert "Falsa" not in karim.text and "Rosa" not in karim.text
    karim.send(f"/reply {open_code} ¿Sigue sin agua?")
    assert f"Request {open_code} is anonymized" in karim.text
    with session_scope(database) as session:
        assert session.exec(select(Message).where(Message.address == "")).all() == []


# -- tracking codes ------------------------------------------------------------------

def test_a_code_tells_nothing_to_anyone_but_its_citizen(engine, rosa):
    rosa.send("/start")
    onboard(rosa)
    code = file_request(rosa, "No hay agua en la calle desde el lunes")
    rosa.send(code)
    assert f"Solicitud {code}" in rosa.text

    eve = Chat(engine, "+5492215559999", channel="whatsapp")
    eve.send("/start")
    onboard(eve)
    eve.send(code)
    theirs = eve.text.replace(code, "<code>")
    eve.send("ZZZ-9ZZ")
    nobodys = eve.text.replace("ZZZ-9ZZ", "<code>")
    assert theirs == nobodys and "No encontré" in theirs
    eve.send("Estado por código")
    eve.send(code.lower())
    assert eve.text.replace(code, "<code>").startswith(nobodys.split("\n")[0])


# -- retention --------------------------------------------------------------------

def test_closed_requests_are_anonymized_when_the_retention_period_is_over(engine, database, catalog, staff, rosa):
    rosa.send("/start")
    onboard(rosa)
    old = file_request(rosa, "Se cortó la luz en Calle Falsa 123")
    still_open = file_request(rosa, "No hay agua en la calle Rivadavia 450")
    karim = Chat(engine, "karim")
    karim.send(f"/take {old}")
    karim.send(f"/close {old} Arreglado en Calle Falsa")
    pushed(database, rosa)
    rosa.press("Sí")
    with session_scope(database) as session:
        closed_at = session.exec(select(Request).where(Request.code == old)).one().closed_at

    assert retention.anonymize_expired(database, 0, closed_at + timedelta(days=3650)) == 0  # 0 keeps everything
    assert retention.anonymize_expired(database, 6, closed_at + timedelta(days=180)) == 0
    scheduler = Scheduler(database, catalog, clock=lambda: closed_at + timedelta(days=185), retention_months=6)
    assert "retention" in scheduler.table
    assert asyncio.run(scheduler.run("retention"))

    with session_scope(database) as session:
        request = session.exec(select(Request).where(Request.code == old)).one()
        assert request.anonymized_at is not None and (request.text, request.address, request.resolution) == ("", "", None)
        assert request.status == "closed" and request.category_id
        events = session.exec(select(RequestEvent).where(RequestEvent.request_id == request.id)).all()
        assert [e.note for e in events if e.kind == "anonymized"] == ["retention period over"]
        assert all("Falsa" not in (e.note or "") for e in events)
        assert all("Falsa" not in m.text for m in session.exec(select(Message)))
        other = session.exec(select(Request).where(Request.code == still_open)).one()
        assert other.anonymized_at is None and "Rivadavia" in other.text
    assert retention.anonymize_expired(database, 6, closed_at + timedelta(days=400)) == 0  # once


@pytest.mark.parametrize("now, months, expected", [
    ("2027-03-31T10:00:00+00:00", 1, "2027-02-28T10:00:00+00:00"),
    ("2027-01-15T00:00:00+00:00", 13, "2025-12-15T00:00:00+00:00"),
])
def test_months_are_calendar_months(now, months, expected):
    assert retention.months_before(datetime.fromisoformat(now), months) == datetime.fromisoformat(expected)


def test_after_a_refusal_agreeing_to_file_a_request_keeps_the_request(engine, database):
    ana = Chat(engine, "ana")
    ana.send("/start")
    onboard(ana, "English", consent="no")
    ana.send("The water pipe at Main Street 12 has burst")
    ana.press("Yes, send it")
    ana.press("Yes, I agree")
    code = ana.handled.request_codes[0]
    with session_scope(database) as session:
        request = session.exec(select(Request).where(Request.code == code)).one()
        assert "Main Street 12" in request.text and session.get(Citizen, request.citizen_id).consent is True


def test_help_says_how_to_see_and_delete_ones_data(rosa):
    rosa.send("/start")
    onboard(rosa)
    rosa.send("ayuda")
    assert "«mis datos»" in rosa.text and "«borrar mis datos»" in rosa.text
    rosa.send("mis datos")  # and the words it names work
    assert "Esto es lo que guardamos sobre usted" in rosa.text
