"""The staff desk as people really use it: answering a numbered list by its
number, finding requests as they remember them, reading a history, counting
in their own language, and not changing a colleague by accident."""

from __future__ import annotations

import pytest
from sqlmodel import select

from flows.i18n import text
from handlers.staff.team import add
from storage.db import session_scope
from storage.models import Caseworker, Citizen, Identity, Request
from tests.conversation import Chat
from tests.test_conversations import onboard
from tests.test_staff import file_request, request_of


@pytest.fixture
def staff(database):
    with session_scope(database) as session:
        add(session, "console:karim", "caseworker", "utilities", "Karim")
        add(session, "console:lola", "caseworker", "utilities", "Lola")
        add(session, "console:root", "admin", None, "Root")
        add(session, "whatsapp:+5492215550199", "caseworker", "utilities", "Marta")


@pytest.fixture
def ana(engine):
    chat = Chat(engine, "ana")
    onboard(chat)
    return chat


def citizens(database) -> list[str]:
    with session_scope(database) as session:
        return [i.address for i in session.exec(select(Identity))]


def test_staff_answer_a_list_by_its_number_and_never_become_citizens(engine, database, staff, ana):
    code = file_request(ana)
    marta = Chat(engine, "+5492215550199", channel="whatsapp")
    marta.send("/inbox")
    assert marta.choices == [code]
    marta.send("1")  # the first request of the list: its card
    assert f"«No electricity in our street for three days»" in marta.text
    assert "Take" in " ".join(marta.choices)
    marta.send("take")  # the words of a choice work too
    assert f"You have taken {code}" in marta.text
    assert request_of(database, code).assignee_id is not None
    marta.send("7")
    assert "There is no choice 7 in the last list" in marta.text
    marta.send("good morning everyone")
    assert "Staff commands start with a slash" in marta.text
    assert not any(a.startswith("whatsapp:") for a in citizens(database))  # no citizen record, no sign-up
    assert "Choose your language" not in marta.text


def test_the_list_is_remembered_for_each_member_of_staff(engine, database, staff, ana):
    first = file_request(ana)
    second = file_request(ana, "There is no gas in the whole village since yesterday")
    karim, lola = Chat(engine, "karim"), Chat(engine, "lola")
    karim.send("/inbox")
    with session_scope(database) as session:
        shown = session.exec(select(Caseworker.shown).where(Caseworker.name == "Karim")).one()
        assert [label for _, label in shown] == [first, second]
    lola.send(f"/show {second}")
    karim.send("2")
    assert f"«There is no gas" in karim.text
    lola.send("1")  # Lola's list is the card's buttons: "Take" first
    assert f"You have taken {second}" in lola.text


def test_the_card_offers_only_what_makes_sense(engine, database, staff, ana):
    code = file_request(ana)
    karim, lola = Chat(engine, "karim"), Chat(engine, "lola")
    karim.send(f"/show {code}")
    assert karim.choices == ["🙋 Take", "▶ In progress", "✅ Resolve"]  # no "Show" on the full card
    karim.press("Take")
    karim.send(f"/show {code}")
    assert karim.choices == ["✅ Resolve"]  # his own, already in progress
    lola.send(f"/show {code}")
    assert lola.choices == []  # Karim's: a caseworker could only be refused
    karim.send(f"/close {code} Repaired")
    karim.send(f"/show {code}")
    assert karim.choices == ["↩ Reopen"]
    karim.press("Reopen")
    assert request_of(database, code).status == "reopened"


def test_find_across_scripts_with_typos_and_by_place(engine, database, staff, ana):
    gas = file_request(ana, "Газ йўқ, уч кундан бери уйда иссиқлик йўқ")
    water = file_request(ana, "No water in the taps of our street since Monday")
    root = Chat(engine, "root")
    root.send("/find gaz")
    assert gas in root.text and water not in root.text
    root.send("/find ГАЗ")
    assert gas in root.text
    root.send("/find watter")  # a typo
    assert water in root.text and gas not in root.text
    root.send("/find guliston")  # the place: Ana lives in Guliston district
    assert gas in root.text and water in root.text
    root.send("/find Гулистон water")
    assert water in root.text and gas not in root.text
    assert root.text.startswith("1 found:")
    root.send("/find nothing-like-this")
    assert "Nothing found" in root.text
    root.send(f"/find {water.lower().replace('-', '')}")
    assert water in root.text


def test_find_ranks_the_closest_first(engine, database, staff, ana):
    typo = file_request(ana, "Problem with the elektricity meter reading")
    exact = file_request(ana, "The electricity is off again in our street")
    root = Chat(engine, "root")
    root.send("/find electricity")
    lines = root.text.splitlines()
    assert lines[1].startswith(exact) and lines[2].startswith(typo)


def test_show_reads_the_history_in_words(engine, database, staff, ana):
    code = file_request(ana)
    karim = Chat(engine, "karim")
    karim.send(f"/take {code}")
    karim.send(f"/note {code} Called the district office")
    karim.send(f"/show {code}")
    history = karim.text.split("History:")[1]
    assert "None" not in history and "citizen:" not in history and "caseworker:" not in history
    assert "ana (citizen): filed the request" in history
    assert "Karim (caseworker): status new → in_progress" not in history
    assert "Karim (caseworker): changed the status new → in_progress" in history
    assert "Karim (caseworker): added a note: Called the district office" in history
    assert "new → new" not in history


def test_counts_read_right_in_every_language():
    assert text("en", "staff_inbox_title", count=1) == "1 request:"
    assert text("en", "staff_inbox_title", count=3) == "3 requests:"
    assert text("es", "staff_inbox_title", count=1) == "1 solicitud:"
    assert [text("ru", "staff_inbox_title", count=n) for n in (1, 3, 5, 11, 21, 22, 25, 112)] == [
        "1 обращение:", "3 обращения:", "5 обращений:", "11 обращений:", "21 обращение:", "22 обращения:", "25 обращений:", "112 обращений:",
    ]
    assert text("uz", "staff_inbox_title", count=1) == "1 ta murojaat:" == text("uz", "staff_inbox_title", count=1)
    assert text("uz", "staff_inbox_title", count=5) == "5 ta murojaat:"
    assert text("en", "staff_days", count=1) == "1 day"


def test_one_request_is_one_request_in_the_inbox(engine, database, staff, ana):
    file_request(ana)
    karim = Chat(engine, "karim")
    karim.send("/inbox")
    assert karim.text.startswith("1 request:\n")


def test_stats_name_categories_and_departments_in_the_staff_language(engine, database, staff, ana):
    file_request(ana)
    with session_scope(database) as session:
        add(session, "console:olga", "admin", None, "Olga", "ru")
    olga = Chat(engine, "olga")
    olga.send("/stats 1")
    assert "За последние 1 день: 1 обращение" in olga.text
    assert "utilities" not in olga.text  # ids are for machines
    russian = text("ru", "staff_stats_by_category", values="")
    category_line = next(line for line in olga.text.splitlines() if line.startswith(russian))
    assert "Коммунальные" in category_line or "коммун" in category_line.lower()
    assert "По отделам:" in olga.text


def test_staff_add_never_changes_someone_silently(engine, database, staff):
    root = Chat(engine, "root")
    root.send("/staff add console:karim admin")
    assert "Karim is already on the staff; this would change role caseworker → admin" in root.text
    assert "/staff add console:karim admin --update" in root.text
    with session_scope(database) as session:
        assert session.exec(select(Caseworker).where(Caseworker.name == "Karim")).one().role == "caseworker"
    root.send("/staff add console:karim admin --update")
    assert "Karim: changed role caseworker → admin" in root.text
    with session_scope(database) as session:
        karim = session.exec(select(Caseworker).where(Caseworker.name == "Karim")).one()
        assert karim.role == "admin" and karim.department_id == "utilities"  # what was not given is kept
