"""The staff desk as people really use it: answering a numbered list by its
number, finding requests as they remember them, reading a history, counting
in their own language, and not changing a colleague by accident."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import select, update

from flows.i18n import text
from handlers.staff.cards import actions, age, button
from handlers.staff.queue import LISTED, WITH_BUTTONS
from handlers.staff.team import add
from storage import casework
from storage.db import session_scope
from storage.models import Caseworker, Citizen, Identity, Message, Request, utcnow
from tests.conversation import Chat
from tests.test_conversations import onboard
from tests.test_staff import events_of, file_request, request_of


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


def test_words_from_someone_removed_from_the_staff_as_they_typed_get_the_hint(engine, database, staff):
    from flows.messages import Incoming

    words = Incoming("console", "console:karim", "3", external_id="karim-removed", name="Karim")
    assert engine.desk.wants(words)
    with session_scope(database) as session:  # an admin removes Karim meanwhile
        session.exec(update(Caseworker).where(Caseworker.name == "Karim").values(active=False, shown=[["show:X", "X"]]))
    handled = engine.desk.handle(words)
    assert [r.text for r in handled.replies] == [text("en", "staff_plain_text_hint")]


def test_a_button_the_desk_never_made_changes_nothing(engine, database, staff, ana):
    code = file_request(ana)
    karim = Chat(engine, "karim")
    karim.send(event={"type": "button", "data": button("delete", code)})  # a button of an older version, or made up
    assert karim.text == text("en", "staff_plain_text_hint")
    assert request_of(database, code).status == "new"


def test_a_mistyped_code_is_compared_with_the_newest_two_thousand(engine, database, staff, ana):
    from sqlalchemy import insert

    from handlers.staff.context import SUGGESTED_FROM

    oldest = file_request(ana)
    with session_scope(database) as session:
        row = session.exec(select(Request).where(Request.code == oldest)).one().model_dump(exclude={"id", "code"})
        session.exec(insert(Request), params=[{**row, "code": f"ZZ{n:05d}"} for n in range(SUGGESTED_FROM - 1)])
    newest = file_request(ana, "There is no gas in the whole village since yesterday")
    karim = Chat(engine, "karim")
    karim.send(f"/show {newest[:-1]}{'A' if newest[-1] != 'A' else 'B'}")
    assert f"Did you mean {newest}?" in karim.text
    karim.send(f"/show {oldest[:-1]}{'A' if oldest[-1] != 'A' else 'B'}")  # one too many back
    assert karim.text.startswith("There is no request") and "Did you mean" not in karim.text


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


def test_someone_added_to_the_staff_is_welcomed_in_their_language_and_listed_by_department_and_name(engine, database, staff):
    from tests.conversation import pushed

    with session_scope(database) as session:
        add(session, "console:zafar", "caseworker", "health", "Zafar")
        add(session, "console:aziza", "caseworker", "health", "Aziza", "uz")
        session.exec(update(Caseworker).where(Caseworker.name == "Aziza").values(active=False))
    root = Chat(engine, "root")
    root.send("/staff add console:aziza caseworker health Aziza")  # back on the staff
    assert [m.text for m in pushed(database, Chat(engine, "aziza"))] == [text("uz", "staff_welcome", role="caseworker")]
    root.send("/staff list")
    assert [line.split(" · ")[0].split()[1] for line in root.text.splitlines()[1:]] == ["Root", "Aziza", "Zafar", "Karim", "Lola", "Marta"]


def test_a_new_language_for_someone_on_the_staff_is_a_change_to_confirm(database, staff):
    from handlers.staff.team import AlreadyStaff

    with session_scope(database) as session:
        with pytest.raises(AlreadyStaff) as known:
            add(session, "console:karim", language="ru")
        assert known.value.changes == [("language", "en", "ru")]
        assert add(session, "console:karim", language="ru", update=True).language == "ru"


def test_places_citizens_named_are_listed_most_asked_first_in_the_readers_language(engine, database, staff):
    from storage.models import NamedPlace

    with session_scope(database) as session:
        add(session, "console:olga", "admin", None, "Olga", "ru")
        for name, district in [("Sardoba Yangi", "uz-syr-oqoltin-d"), ("Qishloq", None), ("Yangiobod", "uz-syr-oqoltin-d"), ("yangiobod ", "uz-syr-oqoltin-d")]:
            session.add(NamedPlace(name=name, parent_id=district))
            session.flush()
    olga = Chat(engine, "olga")
    olga.send("/places")
    today = f"{utcnow():%d.%m.%Y}"
    assert olga.text.splitlines() == [
        "3 места, которых нет в списке:",
        f"«Yangiobod» · Акалтынский район, Сырдарьинская область · 2 жителя · {today}",
        f"«Qishloq» · — · 1 житель · {today}",
        f"«Sardoba Yangi» · Акалтынский район, Сырдарьинская область · 1 житель · {today}",
    ]


def test_whoever_is_given_a_request_is_told_in_their_language_on_its_record(engine, database, staff, ana):
    code = file_request(ana)
    with session_scope(database) as session:
        session.exec(update(Caseworker).where(Caseworker.name == "Lola").values(language="ru"))
    karim = Chat(engine, "karim")
    before = len(sent_to(database, "console:karim"))
    karim.send(f"/assign {code} Karim")  # to himself: the answer is all he needs
    assert [m.text for m in sent_to(database, "console:karim")][before:] == [f"{code} is now with Karim."]
    karim.send(f"/assign {code} Karim")  # again: nothing to do, nothing on the record
    assert karim.text == f"{code} is already with Karim: nothing changed."
    assert [e for _, e, _, _ in events_of(database, code)].count("assign") == 1
    karim.send(f"/assign {code} Lola")
    told = sent_to(database, "console:lola")
    assert [m.text for m in told] == [text("ru", "staff_assigned_to_you", code=code, by="Karim")]
    assert told[0].request_id == request_of(database, code).id


def sent_to(database, address: str) -> list[Message]:
    with session_scope(database) as session:
        return list(session.exec(select(Message).where(Message.address == address, Message.direction == "out").order_by(Message.id)))


@pytest.mark.parametrize("error, shown", [
    (None, "—"),
    ("Twilio 63024: +5492215550134 is not a WhatsApp number", "Twilio 63024: +54922****134 is not a WhatsApp number"),
    ("Twilio 21211: Invalid 'To' 5492215550134", "Twilio 21211: Invalid 'To' +54922****134"),  # quoted without its +
    ("x" * 160, "x" * 160),
    ("x" * 161, "x" * 159 + "…"),
])
def test_an_outbox_line_masks_the_number_wherever_the_reason_quotes_it_and_cuts_a_long_reason(error, shown):
    from datetime import datetime, timezone

    from handlers.staff.outbox import line

    queued = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    row = Message(id=12, direction="out", channel="whatsapp", address="whatsapp:+5492215550134", text="Su turno",
                  status="failed", error=error, created_at=queued)
    assert line(row, "KX7-4MP", now=queued + timedelta(hours=3)) == f"#12 · failed · 3h · whatsapp:+54922****134 · KX7-4MP · {shown}"


def test_retrying_the_outbox_skips_a_contact_that_blocked_the_bot_and_says_so(engine, database, staff, ana):
    from storage.queries import identity_for

    with session_scope(database) as session:
        identity, _ = identity_for(session, "telegram", "telegram:123456789")
        identity.blocked_at = utcnow()
        session.add(identity)
        for address in ("telegram:123456789", "console:ana"):
            session.add(Message(direction="out", channel=address.partition(":")[0], address=address, text="Hola",
                                status="failed", error="it did not arrive"))
    root = Chat(engine, "root")
    root.send("/outbox retry failed")
    assert root.text == "1 message queued to go again; 1 skipped (the contact blocked the bot)."
    root.send("/outbox retry held")  # nothing held: nothing to do, and no complaint
    assert root.text == "0 messages queued to go again."


def test_the_inbox_shows_open_and_resolved_cases_oldest_first_and_all_shows_the_rest(engine, database, staff, ana):
    now = utcnow()
    fresh, resolved, closed, joined, late = [file_request(ana, f"No electricity in house number {n} of our street") for n in range(5)]
    _times(database, late, created_at=now - timedelta(days=10))  # filed long ago, entered late: first in line
    _times(database, resolved, status="resolved")
    _times(database, closed, status="closed")
    _times(database, joined, group_id=request_of(database, fresh).id)
    karim = Chat(engine, "karim")
    karim.send("/inbox")
    assert karim.choices == [late, fresh, resolved]  # a group is one case; closed is done
    karim.send("/inbox overdue")  # past the first answer's target
    assert karim.choices == [late]
    karim.send("/inbox all")
    assert karim.choices == [late, fresh, resolved, closed, joined]
    karim.send("/inbox department:utilities")
    assert karim.choices == [late, fresh, resolved]


def test_a_queue_of_exactly_one_list_says_nothing_more(engine, database, staff, ana):
    for n in range(LISTED):
        file_request(ana, f"No electricity in house number {n} of our street")
    karim = Chat(engine, "karim")
    karim.send("/inbox all")
    assert karim.text.splitlines()[0] == f"{LISTED} requests:" and "more" not in karim.text


def test_an_admin_who_belongs_to_a_department_still_sees_every_request(engine, database, staff, ana):
    code = file_request(ana)  # utilities
    with session_scope(database) as session:
        add(session, "console:hakim", "admin", "health", "Hakim")
    hakim = Chat(engine, "hakim")
    hakim.send("/inbox")
    assert code in hakim.choices
    hakim.send(f"/take {code}")
    assert f"You have taken {code}" in hakim.text


def test_a_staff_command_is_on_record_and_its_answer_goes_out_through_the_outbox(engine, database, staff, ana):
    from datetime import datetime, timezone

    from flows.messages import Incoming
    from notifications.outbox import to_outgoing

    code = file_request(ana)
    typed = datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc)
    group = "console:utilities-team"
    handled = engine.handle(Incoming("console", group, "/inbox", external_id="team-1", sender="console:karim", name="Karim",
                                     private=False, received_at=typed))
    with session_scope(database) as session:
        inbound = session.exec(select(Message).where(Message.external_id == "team-1")).one()
        assert (inbound.direction, inbound.text, inbound.status, inbound.created_at) == ("in", "/inbox", "processed", typed)
        assert inbound.payload == {"sender": "console:karim", "name": "Karim"}
        [out] = [to_outgoing(m) for m in session.exec(select(Message).where(Message.address == group, Message.direction == "out"))]
    assert (out.text, out.choices, out.menu_id) == (handled.replies[0].text, handled.replies[0].choices, "0") and code in out.text
    assert [c.label for c in out.choices] == [code]
    stranger = engine.handle(Incoming("console", group, "/inbox", external_id="team-2", sender="console:mallory", private=False))
    with session_scope(database) as session:
        assert session.exec(select(Message.status).where(Message.external_id == "team-2")).one() == "refused"
    karim = Chat(engine, "karim")
    karim.send("/staff list")
    with session_scope(database) as session:
        assert session.exec(select(Message.status).where(Message.text == "/staff list")).one() == "refused"
    assert stranger.replies


def _times(database, code: str, **changes) -> None:
    """Set a request's times (and other columns) as if its life had taken that long."""
    with session_scope(database) as session:
        request = session.exec(select(Request).where(Request.code == code)).one()
        for name, value in changes.items():
            setattr(request, name, value)
        session.add(request)


def test_stats_count_the_days_asked_for_each_figure_exactly(engine, database, staff, ana):
    now = utcnow()
    answered = file_request(ana, "No electricity in our street for three days")
    waiting = file_request(ana, "The water pipe burst in our street")
    unrouted = file_request(ana, "Gas smell near the school")
    old = file_request(ana, "The street light is broken")
    _times(database, answered, created_at=now - timedelta(hours=10), first_response_at=now - timedelta(hours=8),
           resolved_at=now - timedelta(hours=5), status="resolved", rating=4)
    _times(database, waiting, created_at=now - timedelta(days=3))
    _times(database, unrouted, created_at=now - timedelta(days=4), department_id=None, category_id="utilities", first_response_at=now - timedelta(days=4) + timedelta(hours=1))
    _times(database, old, created_at=now - timedelta(days=40))
    root = Chat(engine, "root")
    root.send("/stats")
    assert root.text.splitlines() == [
        "Last 30 days: 3 requests",
        "By status: new — 2; resolved — 1",
        "By category: Utilities: electricity, gas and water — 3",
        "By department: Utilities and roads — 2; — — 1",
        "By channel: console — 3",
        "First response: median 1.5 h (2 answered)",  # 2 h and 1 h
        "Resolution: median 5.0 h (1 resolved)",
        "Satisfaction: 4.0/5 (1 rating)",
        "Overdue now: 2",  # three days with no answer, four days answered but not resolved; 40 days ago is not counted
    ]
    karim = Chat(engine, "karim")  # a caseworker counts his department's only
    karim.send("/stats 2")
    assert karim.text.splitlines()[:2] == ["Last 2 days: 1 request", "By status: resolved — 1"]


def test_a_long_queue_lists_the_first_and_says_how_many_more(engine, database, staff, ana):
    codes = [file_request(ana, f"No electricity in house number {n} of our street") for n in range(LISTED + 2)]
    karim = Chat(engine, "karim")
    karim.send("/inbox all")
    lines = karim.text.splitlines()
    assert lines[0] == f"{LISTED + 2} requests:" and len(lines) == 1 + LISTED + 1
    assert lines[-1] == "… and 2 more; narrow it with filters."
    assert len(karim.choices) == WITH_BUTTONS and set(karim.choices) <= set(codes)


@pytest.mark.parametrize("minutes, shown", [
    (0, "0m"), (59, "59m"), (60, "1h"), (119, "1h"), (48 * 60 - 1, "47h"), (48 * 60, "2d"), (72 * 60, "3d"), (100 * 24 * 60, "100d"),
])
def test_a_requests_age_reads_in_minutes_then_hours_then_days(minutes, shown):
    now = utcnow()
    assert age(now - timedelta(minutes=minutes, seconds=30), now) == shown


def _desk(me_id: int, role: str):
    ranks = ["caseworker", "supervisor", "admin"]
    return SimpleNamespace(me=SimpleNamespace(id=me_id), at_least=lambda least: ranks.index(role) >= ranks.index(least))


@pytest.mark.parametrize("role, status, assignee, offered", [
    ("caseworker", "new", None, ["take", "progress", "close"]),
    ("caseworker", "new", 1, ["progress", "close"]),  # mine: no "take"
    ("caseworker", "new", 2, []),  # a colleague's: nothing that would only be refused
    ("supervisor", "new", 2, ["take", "progress", "close"]),
    ("caseworker", "in_progress", 1, ["close"]),
    ("caseworker", "waiting_citizen", 1, ["progress", "close"]),
    ("caseworker", "reopened", None, ["take", "progress", "close"]),
    ("caseworker", "resolved", 1, ["reopen"]),
    ("caseworker", "closed", None, ["reopen"]),
    ("caseworker", "closed", 2, []),
    ("admin", "closed", 2, ["reopen"]),
    ("admin", "duplicate", None, ["reopen"]),
])
def test_a_card_offers_only_what_this_person_can_do_now(role, status, assignee, offered):
    request = SimpleNamespace(status=status, assignee_id=assignee)
    assert actions(_desk(1, role), request) == offered


def test_the_card_shows_files_place_rating_and_a_history_in_the_order_it_happened(engine, database, staff, ana):
    code = file_request(ana, "No electricity in our street for three days")
    now = utcnow()
    with session_scope(database) as session:
        request = session.exec(select(Request).where(Request.code == code)).one()
        request.attachments = [{"kind": "photo", "ref": "chat-files/pole.jpg"}, {"kind": "document", "ref": "chat-files/bill.pdf"}]
        request.latitude, request.longitude = 40.4897, 68.7842
        request.rating, request.rating_comment = 5, "Quick and polite"
        session.add(request)
        # Recorded out of order, as two processes may: the card reads them by time.
        casework.record(session, request, "caseworker:1", "note", "second", now=now + timedelta(minutes=2))
        casework.record(session, request, "import:sheet-2024", "note", "first", now=now + timedelta(minutes=1))
        casework.record(session, request, "citizen:999999", "note", "from a citizen no longer on record", now=now + timedelta(minutes=3))
    root = Chat(engine, "root")
    root.send(f"/show {code}")
    lines = root.text.splitlines()
    assert "📎 photo: chat-files/pole.jpg" in lines and "📎 document: chat-files/bill.pdf" in lines
    assert "📍 40.48970, 68.78420" in lines
    assert "⭐ 5/5 «Quick and polite»" in lines
    assert lines[1] == "ana · console:ana · en"  # an admin reads the contact in full
    history = lines[lines.index("History:") + 1:]
    assert [line.split(": ", 1)[1] if ": " in line else line for line in history[1:]] == [
        "added a note: first", "added a note: second", "added a note: from a citizen no longer on record"]
    assert history[1].endswith("import:sheet-2024: added a note: first")  # an actor the desk has no name for, as stored
    assert "Karim (caseworker)" in history[2] and "#999999 (citizen)" in history[3]


def test_a_card_quotes_long_messages_in_part_and_names_what_was_pressed(engine, database, staff, ana):
    code = file_request(ana, "No electricity in our street for three days")
    ana.send("x" * 400)
    with session_scope(database) as session:
        request = session.exec(select(Request).where(Request.code == code)).one()
        session.exec(update(Message).where(Message.citizen_id == request.citizen_id).values(request_id=request.id))
    root = Chat(engine, "root")
    root.send(f"/show {code}")
    shown = root.text.split("Messages:")[1]
    assert "← " + "x" * 300 + "\n" in shown and "x" * 301 not in shown
    assert "← [button]" in shown
