"""The mobile office's visits: planned by staff, asked about by citizens in
their words, booked with a queue number, moved or cancelled with notices,
reminded once, and counted as demand for planners."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from bot import cli
from bot.visit_planning import import_plan
from flows.visits import asks_about_visits
from notifications.visits import send_reminders
from storage.db import session_scope
from storage.models import Booking, Citizen, Message, ServiceQuestion, Visit, VisitSubscription
from tests.conversation import Chat, pushed
from tests.test_conversations import onboard
from tests.test_staff import ana, staff  # noqa: F401

TASHKENT = timezone(timedelta(hours=5))
ID_CARD, BIRTH_COPY, CADASTRE = "uz-id-card-first", "uz-birth-cert-copy", "uz-cadastre-extract"


def day(days: int = 3) -> str:
    return (datetime.now(TASHKENT) + timedelta(days=days)).strftime("%Y-%m-%d")


def place_of(database, chat: Chat) -> str:
    with session_scope(database) as session:
        return session.exec(select(Citizen.locality_id).join_from(Citizen, Message, Message.citizen_id == Citizen.id)
                            .where(Message.address == chat.address)).first()


def plan(engine, place: str, days: int = 3, hours: str = "09:00-13:00", services: str = f"{ID_CARD},{BIRTH_COPY}", extra: str = "") -> str:
    sara = Chat(engine, "sara")
    sara.send(f"/visit add {place} {day(days)} {hours} {services} {extra}".strip())
    return sara.text


def visits_of(database) -> list[Visit]:
    with session_scope(database) as session:
        return list(session.exec(select(Visit).order_by(Visit.id)))


@pytest.mark.parametrize("words", [
    "When does the mobile office come?", "next visit of the mobile unit?",
    "Когда приедет выездная бригада в нашу махаллю?", "Vyezdnaya brigada kogda budet?", "мобильный офис когда",
    "bozor kuni xizmatlar keladimi", "kochma xizmat qachon keladi", "Mobil ofis qachon keladi?",
    "Кўчма хизмат қачон келади?", "кучма хизмат качон келади",
    "¿cuándo viene el operativo?", "cuando viene la oficina movil",
])
def test_a_visit_question_in_any_language_is_read_as_one(words):
    assert asks_about_visits(words)


@pytest.mark.parametrize("words", [
    "when will the gas come back?", "no viene el agua", "There is no water in our street for a week",
    "I need to change my mobile number", "cambiar mi numero de movil", "pasport olish", "what documents for a passport?",
])
def test_other_messages_are_not_visit_questions(words):
    assert not asks_about_visits(words)


def test_a_visit_planned_is_shown_to_a_citizen_who_asks_and_told_to_subscribers(engine, database, staff, ana):  # noqa: F811
    village = place_of(database, ana)
    ana.send("When does the mobile office come?")
    assert "No visit to" in ana.text  # nothing planned yet, here or near
    ana.press("Tell me of every visit")
    assert "I will tell you of every visit" in ana.text

    said = plan(engine, village, extra="limit 1")
    assert "planned" in said and "1 person told" in said
    assert "The mobile office comes to" in pushed(database, ana)[0].text
    assert "ID card" in ana.text or "identity" in ana.text.lower()

    olim = Chat(engine, "olim")
    onboard(olim, "Русский")
    olim.send("Когда приедет выездная бригада?")
    assert "Мобильный офис приедет" in olim.text and "09:00–13:00" in olim.text


def test_a_caseworker_lists_visits_but_only_a_supervisor_plans_them(engine, database, staff, ana):  # noqa: F811
    village = place_of(database, ana)
    karim = Chat(engine, "karim")
    karim.send(f"/visit add {village} {day()} 09:00-13:00 {ID_CARD}")
    assert "needs the role supervisor" in karim.text
    assert visits_of(database) == []
    plan(engine, village)
    karim.send("/visit list")
    assert f"#{visits_of(database)[0].id}" in karim.text and "booked 0" in karim.text


@pytest.mark.parametrize("words, problem", [
    ("/visit add Atlantis {day} 09:00-13:00 uz-id-card-first", "I do not know the place"),
    ("/visit add {village} 2020-01-01 09:00-13:00 uz-id-card-first", "cannot read"),
    ("/visit add {village} {day} 13:00-09:00 uz-id-card-first", "cannot read"),
    ("/visit add {village} {day} 9am uz-id-card-first", "cannot read"),
    ("/visit add {village} {day} 09:00-13:00 uz-travel-passport", "not done by the mobile unit"),
    ("/visit add {village} {day} 09:00-13:00 no-such-service", "Unknown service"),
    ("/visit fly", "Usage"),
    ("/visit move 999 {day} 09:00-13:00", "No planned visit #999"),
])
def test_a_visit_that_cannot_be_read_is_refused_with_the_reason(engine, database, staff, ana, words, problem):  # noqa: F811
    sara = Chat(engine, "sara")
    sara.send(words.format(day=day(), village=place_of(database, ana)))
    assert problem in sara.text
    assert visits_of(database) == []


def test_booking_gives_a_number_documents_and_a_full_visit_offers_the_next(engine, database, staff, ana):  # noqa: F811
    village = place_of(database, ana)
    plan(engine, village, days=3, extra=f"limit {ID_CARD}=1")
    plan(engine, village, days=10, services=ID_CARD)
    first, later = visits_of(database)

    ana.send("mobile office when?")
    ana.press("Book a place")
    assert "(1 place left)" in " ".join(ana.choices)
    ana.press("ID card")
    assert "You are number 1" in ana.text and "Bring:" in ana.text

    olim = Chat(engine, "olim")
    onboard(olim)
    assert place_of(database, olim) == village
    olim.send("When does the mobile office come?")
    olim.press("Book a place")
    olim.press("ID card")
    assert "All places for" in olim.text and "It is also offered here" in olim.text
    olim.press(olim.choices[0])  # the later visit
    assert "You are number 1" in olim.text
    with session_scope(database) as session:
        taken = [(b.visit_id, b.number) for b in session.exec(select(Booking).order_by(Booking.id))]
    assert taken == [(first.id, 1), (later.id, 1)]

    sara = Chat(engine, "sara")
    sara.send(f"/visit show {first.id}")
    assert "№1" in sara.text and "Queue (1)" in sara.text
    sara.send(f"/visit came {first.id} 1")
    assert "marked as came" in sara.text
    sara.send(f"/visit came {first.id} 7")
    assert "No booking №7" in sara.text


def test_a_citizen_cancels_their_place_and_it_is_free_again(engine, database, staff, ana):  # noqa: F811
    village = place_of(database, ana)
    plan(engine, village, services=ID_CARD, extra="limit 1")
    ana.send("When does the mobile office come?")
    ana.press("Book a place")
    assert "You are number 1" in ana.text
    ana.send("When does the mobile office come?")
    assert "№1" in ana.text
    ana.press("Cancel №1")
    assert "Your place is cancelled" in ana.text
    with session_scope(database) as session:
        assert [b.status for b in session.exec(select(Booking))] == ["cancelled"]


def test_moving_and_cancelling_tell_the_booked_and_the_subscribers_in_their_language(engine, database, staff, ana):  # noqa: F811
    village = place_of(database, ana)
    plan(engine, village, services=ID_CARD)
    ana.send("When does the mobile office come?")
    ana.press("Book a place")
    olim = Chat(engine, "olim")
    onboard(olim, "Русский")
    with session_scope(database) as session:
        citizen = session.exec(select(Citizen).where(Citizen.display_name == "olim")).one()
        session.add(VisitSubscription(citizen_id=citizen.id, locality_id=village, address=olim.address))
    visit = visits_of(database)[0]

    sara = Chat(engine, "sara")
    sara.send(f"/visit move {visit.id} {day(5)} 10:00-12:00")
    assert "moved" in sara.text and "2 people told" in sara.text
    assert "has moved: now" in pushed(database, ana)[0].text and "Your number 1 stays the same" in ana.text
    assert "перенесён" in pushed(database, olim)[0].text and "10:00–12:00" in olim.text

    sara.send(f"/visit cancel {visit.id} the road is closed")
    assert "cancelled. 2 people told" in sara.text
    assert "is cancelled. the road is closed." in pushed(database, ana)[0].text
    assert "отменён" in pushed(database, olim)[0].text
    sara.send(f"/visit cancel {visit.id}")
    assert f"No planned visit #{visit.id}" in sara.text


def _visit_at(database, starts: datetime, place: str, citizens: list[tuple[int, str, bool]]) -> Visit:
    """A visit and, for each (citizen, address, booked), a booking or a subscription."""
    with session_scope(database) as session:
        visit = Visit(locality_id=place, starts_at=starts, ends_at=starts + timedelta(hours=4), services=[ID_CARD])
        session.add(visit)
        session.flush()
        for number, (citizen_id, address, booked) in enumerate(citizens, 1):
            if booked:
                session.add(Booking(visit_id=visit.id, citizen_id=citizen_id, address=address, service_id=ID_CARD, number=number))
            else:
                session.add(VisitSubscription(citizen_id=citizen_id, locality_id=place, address=address))
        session.refresh(visit)
        session.expunge(visit)
        return visit


def _reminders(database) -> list[Message]:
    with session_scope(database) as session:
        rows = list(session.exec(select(Message).where(Message.dedupe_key.like("visit:%remind%")).order_by(Message.id)))
        for row in rows:
            session.expunge(row)
        return rows


def test_reminders_go_the_evening_before_and_that_morning_once_each(engine, database, catalog, staff, ana):  # noqa: F811
    village = place_of(database, ana)
    with session_scope(database) as session:
        ana_id = session.exec(select(Citizen.id).where(Citizen.display_name == "ana")).one()
    # a visit at 09:00 Tashkent time, three days from now
    starts = datetime.combine((datetime.now(TASHKENT) + timedelta(days=3)).date(), datetime.min.time(), TASHKENT) + timedelta(hours=9)
    _visit_at(database, starts.astimezone(timezone.utc), village, [(ana_id, ana.address, True)])
    evening = starts - timedelta(hours=15)  # 18:00 the day before
    assert send_reminders(database, catalog, evening - timedelta(minutes=1)) == 0
    assert send_reminders(database, catalog, evening) == 1
    assert send_reminders(database, catalog, evening + timedelta(hours=3)) == 0  # the bot restarted: nothing twice
    morning = starts - timedelta(hours=2)  # 07:00
    assert send_reminders(database, catalog, morning) == 1
    assert send_reminders(database, catalog, starts) == 0  # the visit began: too late
    sent = _reminders(database)
    assert [m.text.split(" ")[1] for m in sent] == ["Tomorrow", "Today"]
    assert "Your number: 1" in sent[0].text and sent[0].payload["template"] == "status"


def test_a_subscriber_who_said_stop_gets_no_reminder_but_a_booked_one_does(engine, database, catalog, staff, ana):  # noqa: F811
    village = place_of(database, ana)
    olim = Chat(engine, "olim")
    onboard(olim)
    with session_scope(database) as session:
        people = {c.display_name: c for c in session.exec(select(Citizen))}
        for citizen in people.values():
            citizen.broadcasts_opted_out_at = datetime.now(timezone.utc)
            session.add(citizen)
        ids = {name: c.id for name, c in people.items()}
    starts = datetime.now(timezone.utc) + timedelta(hours=1)
    _visit_at(database, starts, village, [(ids["ana"], ana.address, True), (ids["olim"], olim.address, False)])
    assert send_reminders(database, catalog, datetime.now(timezone.utc)) == 1
    assert [m.address for m in _reminders(database)] == [ana.address]


def test_two_schedulers_at_once_queue_each_reminder_once(engine, database, catalog, staff, ana):  # noqa: F811
    village = place_of(database, ana)
    with session_scope(database) as session:
        for n in range(8):
            session.add(Citizen(display_name=f"c{n}", language="uz", locality_id=village))
        session.flush()
        citizens = [(c.id, f"console:c{c.id}", c.id % 2 == 0) for c in session.exec(select(Citizen).where(Citizen.display_name.like("c%")))]
    starts = datetime.now(timezone.utc) + timedelta(hours=1)
    _visit_at(database, starts, village, citizens)
    now, counts, errors = datetime.now(timezone.utc), [], []
    barrier = threading.Barrier(2)

    def scheduler():
        try:
            barrier.wait()
            counts.append(send_reminders(database, catalog, now))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors or all("locked" in str(e) for e in errors), errors
    assert len(_reminders(database)) == 8
    assert len({m.dedupe_key for m in _reminders(database)}) == 8
    assert sum(counts) == 8 or (errors and sum(counts) + send_reminders(database, catalog, now) == 8)


PLAN = """locality,date,start,end,services,limit
{village},{day},09:00,13:00,uz-id-card-first;uz-birth-cert-copy,20
Atlantis,{day},09:00,13:00,uz-id-card-first,
{village},2020-01-01,09:00,13:00,uz-id-card-first,
{village},{later},09:00,13:00,uz-travel-passport,
{village},{later},10:00,12:00,uz-id-card-first,uz-id-card-first=5
{village},{later},11:00,12:00,uz-id-card-first,many
"""


def test_a_route_plan_keeps_good_rows_reports_bad_ones_by_line_and_a_reimport_changes_nothing(engine, database, catalog, staff, ana):  # noqa: F811
    village = place_of(database, ana)
    source = PLAN.format(village=village, day=day(3), later=day(6))
    with session_scope(database) as session:
        report = import_plan(session, catalog, source)
    assert (report.added, report.updated, report.unchanged) == (2, 0, 0)
    assert [line for line, _ in report.errors] == [3, 4, 5, 7]
    assert "unknown place" in report.errors[0][1] and "not done by the mobile unit" in report.errors[2][1]
    assert [v.limits for v in visits_of(database)] == [{ID_CARD: 20, BIRTH_COPY: 20}, {ID_CARD: 5}]
    with session_scope(database) as session:
        again = import_plan(session, catalog, source)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    assert len(visits_of(database)) == 2
    with session_scope(database) as session:
        assert import_plan(session, catalog, "place,when\nx,y\n").errors[0][1].startswith("missing columns")


def test_the_cli_imports_a_plan_and_writes_a_roster_and_the_demand(engine, database, database_url, staff, ana, tmp_path, monkeypatch, capsys):  # noqa: F811
    village = place_of(database, ana)
    monkeypatch.setenv("DATABASE_URL", database_url)
    plan_file = tmp_path / "plan.csv"
    plan_file.write_text(PLAN.format(village=village, day=day(3), later=day(6)), "utf-8")
    assert cli.main(["visits", "import", str(plan_file)]) == 1  # some rows were bad
    out = capsys.readouterr()
    assert "2 added, 0 updated, 0 unchanged, 4 rows with errors" in out.out and f"{plan_file}:3: unknown place" in out.err

    ana.send("When does the mobile office come?")
    ana.press("Book a place")
    ana.press("ID card")
    visit = visits_of(database)[0]
    assert cli.main(["visits", "roster", str(visit.id)]) == 0
    roster = capsys.readouterr().out.splitlines()
    assert roster[0] == "number,name,service,status,booked_at" and roster[1].startswith("1,ana,")

    assert cli.main(["report", "demand", "--csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "locality,place,service,bookings,open_requests,questions_without_visit,subscribers"
    assert rows[1].startswith(f"{village},") and f",{ID_CARD},1,0,0,0" in rows[1]


def test_demand_counts_bookings_requests_questions_and_subscribers_most_needed_first(engine, database, staff, ana):  # noqa: F811
    village = place_of(database, ana)
    ana.send("what documents do I need for an ID card?")  # a service question, no visit planned
    ana.send("When does the mobile office come?")
    ana.press("Tell me of every visit")
    with session_scope(database) as session:
        asked = list(session.exec(select(ServiceQuestion)))
    assert [q.visit_scheduled for q in asked] == [False, False] and asked[0].service_id

    plan(engine, village, services=ID_CARD)
    ana.send("what documents do I need for an ID card?")  # now a visit brings it: not a sign of unmet demand
    with session_scope(database) as session:
        assert [q.visit_scheduled for q in session.exec(select(ServiceQuestion).order_by(ServiceQuestion.id))][-1] is True
    with session_scope(database) as session:
        for booking in session.exec(select(Visit)):
            session.delete(booking)

    sara = Chat(engine, "sara")
    sara.send("/demand")
    assert "Demand per place" in sara.text
    top = sara.text.splitlines()[1]
    assert top.endswith("· 0 · 0 · 1 · 1"), top  # bookings · open requests · questions · subscribers
    sara.send("/demand Buenos Aires")
    assert "No demand recorded yet" in sara.text


def test_a_service_answer_names_the_next_visit_that_brings_it_in_local_time(engine, database, staff, ana):  # noqa: F811
    ana.send("what documents do I need for my first ID card?")
    assert "no visit to your place is scheduled yet" in ana.text
    plan(engine, place_of(database, ana), services=ID_CARD)
    ana.send("what documents do I need for my first ID card?")
    assert "Mobile office: " in ana.text and "09:00–13:00" in ana.text  # Tashkent time, as planned


def test_the_last_place_cannot_be_taken_twice_even_when_two_ask_at_once(database, catalog, staff, ana):  # noqa: F811
    """The screen said one place was left to both; the store gives it to one."""
    from storage import visits as store

    starts = datetime.now(timezone.utc) + timedelta(days=2)
    with session_scope(database) as session:
        visit = Visit(locality_id=place_of(database, ana), starts_at=starts, ends_at=starts + timedelta(hours=3),
                      services=[ID_CARD], limits={ID_CARD: 1})
        session.add(visit)
        session.flush()
        first = store.book(session, visit.id, None, "console:one", ID_CARD)
        second = store.book(session, visit.id, None, "console:two", ID_CARD)
        assert first.number == 1 and second == "full"
        assert store.book(session, visit.id, None, "console:two", BIRTH_COPY) == "not_offered"
        assert store.book(session, 9999, None, "console:two", ID_CARD) == "gone"


@pytest.mark.parametrize("local_time, held_until", [
    ("22:30", "08:00 the next day"), ("03:00", "08:00 the same day"), ("07:59", "08:00 the same day"),
    ("08:00", None), ("20:59", None),
])
def test_subscribers_hear_of_a_visit_planned_at_night_at_eight_the_booked_at_once(database, catalog, staff, ana, local_time, held_until):  # noqa: F811
    from notifications.visits import tell
    from storage.queries import claim_outbound

    village = place_of(database, ana)
    with session_scope(database) as session:
        ana_id = session.exec(select(Citizen.id).where(Citizen.display_name == "ana")).one()
        olim = Citizen(display_name="olim", language="ru", locality_id=village)
        session.add(olim)
        session.flush()
        session.add(VisitSubscription(citizen_id=olim.id, locality_id=village, address="console:olim"))
    starts = datetime.now(timezone.utc) + timedelta(days=3)
    visit = _visit_at(database, starts, village, [(ana_id, ana.address, True)])
    hour, minute = map(int, local_time.split(":"))
    now = datetime.combine(datetime.now(TASHKENT).date(), datetime.min.time(), TASHKENT) + timedelta(hours=hour, minutes=minute)
    with session_scope(database) as session:
        assert tell(session, catalog, session.get(Visit, visit.id), "moved", now=now.astimezone(timezone.utc)) == 2
    with session_scope(database) as session:
        sent = {m.address: m.next_attempt_at for m in session.exec(select(Message).where(Message.dedupe_key.like("visit:%")))}
    assert sent[ana.address] is None  # her own place: at once
    if held_until is None:
        assert sent["console:olim"] is None
    else:
        eight = datetime.combine(now.date() + timedelta(days=1 if held_until.endswith("next day") else 0), datetime.min.time(), TASHKENT)
        assert sent["console:olim"] == eight + timedelta(hours=8)
        with session_scope(database) as session:
            early = {m.address for m in claim_outbound(session, sent["console:olim"] - timedelta(minutes=1), 100, timedelta(minutes=1))}
            session.rollback()
        assert "console:olim" not in early and ana.address in early
