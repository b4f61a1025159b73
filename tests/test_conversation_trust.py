"""Rough edges of the conversation, as citizens found them: answers that say
more than yes or no, the language changed in words at any step, a first
message that already says which language, a location far from any known
place, and a village that is not in the list."""

from __future__ import annotations

import pytest
from sqlmodel import select

from flows.choices import leading_answer, match_choice
from handlers.staff.team import add
from storage.db import session_scope
from storage.models import Citizen, Identity, Request, RequestEvent
from tests.conversation import Chat, pushed
from tests.test_conversations import onboard
from tests.test_staff import file_request, request_of


@pytest.fixture
def staff(database):
    with session_scope(database) as session:
        add(session, "console:karim", "caseworker", "utilities", "Karim")


def citizen_of(database, address: str) -> Citizen:
    with session_scope(database) as session:
        identity = session.get(Identity, address)
        return session.get(Citizen, identity.citizen_id)


# -- yes or no, and more ----------------------------------------------------------

@pytest.mark.parametrize("typed, key, rest", [
    ("no, todavía no me llegó nada", "no", "todavía no me llegó nada"),
    ("No todavía no", "no", "todavía no"),
    ("нет, воды так и нет", "no", "воды так и нет"),
    ("Yo'q, hali ham suv yo'q", "no", "hali ham suv yo'q"),
    ("йўқ ҳали ҳам", "no", "ҳали ҳам"),
    ("Sí, muchas gracias!", "yes", "muchas gracias!"),
    ("да, спасибо", "yes", "спасибо"),
    ("yes", "yes", ""),
])
def test_a_reply_that_opens_with_yes_or_no_is_that_answer(typed, key, rest):
    assert leading_answer(typed) == (key, rest)
    assert match_choice(typed, [("yes", "✅ Sí, resuelto"), ("no", "❌ No")]) == key


@pytest.mark.parametrize("typed", ["no sé", "не знаю", "noticias del reclamo", "nosotros seguimos sin agua", "daniel"])
def test_a_doubt_or_another_word_is_not_an_answer(typed):
    assert leading_answer(typed) is None
    assert match_choice(typed, [("yes", "✅ Sí, resuelto"), ("no", "❌ No")]) is None


def test_no_with_a_comment_reopens_and_the_comment_reaches_the_caseworker(engine, database, staff):
    carla = Chat(engine, "carla", channel="whatsapp")
    onboard(carla, "Español")
    code = file_request(carla, "No hay agua en el barrio desde ayer")
    karim = Chat(engine, "karim")
    karim.send(f"/take {code}")
    karim.send(f"/close {code} Se reparó la cañería")
    pushed(database, carla)
    pushed(database, karim)
    carla.send("no, todavía no me llegó nada")
    assert f"{code}" in carla.text and "reabierta" in carla.text.lower()
    assert request_of(database, code).status == "reopened"
    alert = " ".join(m.text for m in pushed(database, karim))
    assert "«todavía no me llegó nada»" in alert
    with session_scope(database) as session:
        notes = [e.note for e in session.exec(select(RequestEvent).where(RequestEvent.to_status == "reopened"))]
    assert notes == ["the citizen says it is not resolved: «todavía no me llegó nada»"]


def test_yes_with_thanks_closes_keeps_the_comment_and_asks_only_the_rating(engine, database, staff):
    carla = Chat(engine, "carla", channel="whatsapp")
    onboard(carla, "Español")
    code = file_request(carla, "No hay agua en el barrio desde ayer")
    Chat(engine, "karim").send(f"/close {code} Se reparó la cañería")
    pushed(database, carla)
    carla.send("Sí, ya tenemos agua, gracias")
    carla.send("5")
    request = request_of(database, code)
    assert (request.status, request.rating, request.rating_comment) == ("closed", 5, "ya tenemos agua, gracias")
    assert carla.choices and "comentario" not in carla.text.lower()  # back at the menu, no comment asked again


# -- a location far from every known place ------------------------------------------

# A pin 55 km east of Gulistan, past every sample village of Syrdarya.
FAR = (40.52, 69.43)


def test_a_location_far_from_every_known_place_is_confirmed_before_it_is_saved(engine, database):
    ana = Chat(engine, "ana")
    ana.send("/start")
    ana.press("English")
    ana.share_location(*FAR)
    assert "The nearest place I know is" in ana.text and "km from your location. Is that your place?" in ana.text
    km = int(ana.text.split("about ")[1].split(" km")[0])
    assert km > 15
    assert citizen_of(database, ana.address).locality_id is None  # nothing saved yet
    ana.press("No, show the list")
    assert ana.choices == ["Syrdarya Region", "Jizzakh Region", "Buenos Aires Province"]
    ana.share_location(*FAR)
    ana.press("Yes, that is it")
    assert "Saved:" in ana.text
    assert citizen_of(database, ana.address).locality_id is not None


def test_a_location_near_a_known_place_is_saved_at_once(engine, database):
    ana = Chat(engine, "ana")
    ana.send("/start")
    ana.press("English")
    ana.share_location(40.49, 68.79)
    assert "You are near" in ana.text and "Is that your place?" not in ana.text
    assert citizen_of(database, ana.address).locality_id is not None


# -- a village that is not in the list -----------------------------------------------

def test_a_village_not_in_the_list_is_asked_by_name_and_kept_for_staff(engine, database):
    with session_scope(database) as session:
        add(session, "console:root", "admin", None, "Root")
    ana = Chat(engine, "ana")
    ana.send("/start")
    ana.press("Español")
    ana.press("Buenos Aires")
    ana.press(ana.choices[0])
    ana.press("no aparece")
    assert "¿Cómo se llama su localidad o barrio?" in ana.text
    ana.send("Villa Elisa Norte")
    assert "Agregaremos «Villa Elisa Norte» a la lista" in ana.text
    citizen = citizen_of(database, ana.address)
    assert citizen.locality_id is not None  # the district, for routing
    pedro = Chat(engine, "pedro")
    pedro.send("/start")
    pedro.press("Español")
    pedro.press("Buenos Aires")
    pedro.press(pedro.choices[0])
    pedro.press("no aparece")
    pedro.send("villa elisa norte")
    root = Chat(engine, "root")
    root.send("/places")
    assert "1 place citizens named that is not in the list:" in root.text
    assert "«Villa Elisa Norte»" in root.text and "2 citizens" in root.text


def name_a_village_not_listed(chat: Chat, village: str) -> None:
    """A first minute in English that ends naming a village in Zomin that is not in the list."""
    chat.send("/start")
    chat.press("English")
    chat.press("Jizzakh")
    chat.press("Zomin")
    chat.press("not listed")
    chat.send(village)


def test_a_citizen_who_is_forgotten_is_no_longer_linked_to_the_place_they_named(engine, database):
    from storage import privacy
    from storage.models import NamedPlace

    ana = Chat(engine, "ana")
    name_a_village_not_listed(ana, "Yangiobod")
    citizen_id = citizen_of(database, ana.address).id
    with session_scope(database) as session:
        privacy.forget(session, citizen_id)
    with session_scope(database) as session:
        (named,) = session.exec(select(NamedPlace)).all()
        assert (named.name, named.citizen_id) == ("Yangiobod", None)
