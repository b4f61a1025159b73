"""Duplicates at intake: "you already asked this" for a citizen's own open
request, and neighbours reporting one problem linked into one group that
staff work as one case — a reply or a status change reaches every reporter
in their language, and one report can be taken out."""

from __future__ import annotations

from sqlmodel import select

from bot.engine import Engine
from bot.settings import Settings
from storage.db import session_scope
from storage.models import Request, RequestEvent
from tests.conversation import Chat, pushed
from tests.test_conversations import onboard
from tests.test_staff import ana, file_request, staff  # noqa: F401


def requests_of(database) -> list[Request]:
    with session_scope(database) as session:
        rows = list(session.exec(select(Request).order_by(Request.id)))
        for row in rows:
            session.expunge(row)
        return rows


def neighbours(engine) -> tuple[Chat, Chat]:
    olim, rosa = Chat(engine, "olim"), Chat(engine, "rosa")
    onboard(olim, "Русский")
    onboard(rosa, "Español")
    return olim, rosa


def test_the_same_need_again_is_offered_to_the_open_request_first(engine, database, staff, ana):  # noqa: F811
    code = file_request(ana, "No water in our street since Monday")
    ana.send("Still no water in our street, please help")
    ana.press("yes" if any("Yes" in label for label in ana.choices) else ana.choices[0])
    assert f"You already asked this in request {code}" in ana.text
    ana.press(f"Add to {code}")
    assert f"Added to {code}" in ana.text
    assert [r.code for r in requests_of(database)] == [code]
    with session_scope(database) as session:
        [added] = session.exec(select(RequestEvent).where(RequestEvent.kind == "citizen_answer")).all()
        assert added.note == "Still no water in our street, please help"

    ana.send("No water in our street again, the pipe broke")
    ana.press("yes" if any("Yes" in label for label in ana.choices) else ana.choices[0])
    ana.press("it is a new request")
    assert "Tracking code" in ana.text or "registered" in ana.text
    assert [r.group_id for r in requests_of(database)] == [None, None]  # one citizen's two requests are no neighbours' group


def test_another_need_of_the_same_citizen_is_filed_without_asking(engine, database, staff, ana):  # noqa: F811
    file_request(ana, "No water in our street since Monday")
    ana.send("My pension did not come this month")
    assert not any("new request" in label for label in ana.choices)


def test_neighbours_reporting_one_problem_are_one_case_and_each_hears_the_answer(engine, database, staff, ana):  # noqa: F811
    olim, rosa = neighbours(engine)
    first = file_request(ana, "No water in our street since Monday")
    file_request(olim, "Нет воды на нашей улице уже три дня")
    file_request(rosa, "No hay agua en la calle desde el lunes")
    stored = requests_of(database)
    assert [r.group_id for r in stored] == [None, stored[0].id, stored[0].id]

    karim = Chat(engine, "karim")
    karim.send("/inbox")
    assert f"{first} · 👥 3" in karim.text and stored[1].code not in karim.text
    karim.send(f"/show {first}")
    assert "3 reporters of one problem" in karim.text
    karim.send(f"/show {stored[1].code}")
    assert f"Part of {first}'s group" in karim.text

    karim.send(f"/reply {first} A crew is repairing the main pipe today")
    assert "Also sent to the 2 other reporters" in karim.text
    assert "A crew is repairing the main pipe today" in pushed(database, ana)[0].text
    russian = pushed(database, olim)[0].text
    assert "A crew is repairing the main pipe today" in russian and stored[1].code in russian and "По вашему обращению" in russian
    assert "A crew is repairing" in pushed(database, rosa)[0].text
    assert [r.status for r in requests_of(database)] == ["in_progress"] * 3

    karim.send(f"/unlink {stored[2].code}")
    assert f"{stored[2].code} is out of {first}'s group" in karim.text
    karim.send(f"/close {first} The pipe is repaired")
    assert "Also sent to the other reporter of the group" in karim.text
    assert "Было ли решено" in pushed(database, olim)[0].text or "решен" in olim.text
    assert pushed(database, rosa) == []  # out of the group: her case goes on by itself
    assert [r.status for r in requests_of(database)] == ["resolved", "resolved", "in_progress"]
    karim.send(f"/unlink {stored[2].code}")
    assert "is in no group" in karim.text


def test_another_place_or_a_neighbours_own_need_is_not_grouped(engine, database, staff, ana):  # noqa: F811
    olim, _ = neighbours(engine)
    file_request(ana, "No water in our street since Monday")
    file_request(olim, "Мне не пришла пенсия в этом месяце")
    dana = Chat(engine, "dana")
    dana.onboard("English", "Syrdarya", "Oqoltin", None)
    file_request(dana, "No water in our street since Monday")
    assert [r.group_id for r in requests_of(database)] == [None, None, None]


def test_the_thresholds_come_from_the_settings(database, catalog, staff):  # noqa: F811
    rules = Settings.load(environ={"DUPLICATE_NEIGHBOUR_DAYS": "0", "DUPLICATE_MINE_DAYS": "0"}).duplicate_rules
    assert (rules.neighbour_days, rules.mine_days) == (0, 0)
    engine = Engine(database, catalog, duplicate_rules=rules)
    ana, olim = Chat(engine, "ana"), Chat(engine, "olim")
    onboard(ana)
    onboard(olim, "Русский")
    file_request(ana, "No water in our street since Monday")
    ana.send("Still no water in our street, please help")
    ana.press("yes" if any("Yes" in label for label in ana.choices) else ana.choices[0])
    assert "You already asked this" not in ana.text
    file_request(olim, "Нет воды на нашей улице уже три дня")
    assert [r.group_id for r in requests_of(database)] == [None, None, None]
