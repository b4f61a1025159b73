"""Caseworkers work the queue from a chat with the bot; citizens hear of
every change. Conversations with the engine, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select, update

from handlers.staff.team import add
from storage.db import session_scope
from storage.models import Caseworker, Message, Request, RequestEvent, StaffInvite
from tests.conversation import Chat, pushed
from tests.test_conversations import onboard


@pytest.fixture
def staff(database):
    with session_scope(database) as session:
        add(session, "console:karim", "caseworker", "utilities", "Karim")
        add(session, "console:lola", "caseworker", "utilities", "Lola")
        add(session, "console:sara", "supervisor", "utilities", "Sara")
        add(session, "console:root", "admin", None, "Root")


@pytest.fixture
def ana(engine):
    chat = Chat(engine, "ana")
    onboard(chat)
    return chat


def file_request(chat: Chat, words: str = "No electricity in our street for three days") -> str:
    chat.send(words)
    # Sure of the topic: "Yes, send it"; not sure: its likeliest topic, first in the list.
    chat.press("yes" if any("Yes" in label for label in chat.choices) else chat.choices[0])
    if any("it is a new request" in label for label in chat.choices):  # "you already asked this": no, it is new
        chat.press("it is a new request")
    return chat.handled.request_codes[0]


def request_of(database, code: str) -> Request:
    with session_scope(database) as session:
        return session.exec(select(Request).where(Request.code == code)).one()


def events_of(database, code: str) -> list[tuple[str, str, str | None, str | None]]:
    with session_scope(database) as session:
        request = session.exec(select(Request).where(Request.code == code)).one()
        events = session.exec(select(RequestEvent).where(RequestEvent.request_id == request.id).order_by(RequestEvent.id)).all()
        return [(e.actor, e.kind, e.from_status, e.to_status) for e in events]


def test_a_request_from_filing_to_a_rating(engine, database, staff, ana):
    code = file_request(ana)
    assert request_of(database, code).department_id == "utilities"
    karim = Chat(engine, "karim")

    karim.send("/inbox")
    assert code in karim.text and "Utilities" in karim.text
    karim.send(f"/take {code.lower()}")
    assert f"You have taken {code}" in karim.text
    assert f"Your request {code} has been taken" in " ".join(m.text for m in pushed(database, ana))

    karim.send(f"/reply {code} A team will repair the line tomorrow.")
    (reply,) = pushed(database, ana)
    assert reply.text.startswith(f"💬 About your request {code}:") and "A team will repair" in reply.text
    assert "Karim" not in reply.text and "— Utilities and roads" in reply.text  # signed as the service

    karim.send(f"/ask {code} Which house number?")
    (question,) = pushed(database, ana)
    assert "Which house number?" in question.text
    ana.send("Number 12, next to the school")
    assert f"added to request {code}" in ana.text
    assert any("Number 12" in m.text for m in pushed(database, karim))
    assert request_of(database, code).status == "in_progress"

    karim.send(f"/note {code} Line fixed, checked with the neighbours")
    assert not pushed(database, ana)  # internal notes stay internal

    karim.send(f"/close {code} The line was repaired on Tuesday.")
    (closing,) = pushed(database, ana)
    assert "The line was repaired" in closing.text and f"Was your request {code} resolved?" in closing.text
    ana.press("Yes, resolved")
    ana.press("⭐⭐⭐⭐⭐")
    ana.send("Quick and polite, thank you")
    assert "Thank you for your answer" in ana.text

    request = request_of(database, code)
    assert (request.status, request.rating, request.rating_comment) == ("closed", 5, "Quick and polite, thank you")
    assert request.first_response_at is not None and request.resolved_at is not None
    karim_id = f"caseworker:{_id(database, 'Karim')}"
    citizen = request.citizen_id
    assert events_of(database, code) == [
        (f"citizen:{citizen}", "created", None, "new"),
        (karim_id, "assign", "new", "new"),
        (karim_id, "status", "new", "in_progress"),
        (karim_id, "reply", "in_progress", "in_progress"),
        (karim_id, "status", "in_progress", "waiting_citizen"),
        (f"citizen:{citizen}", "citizen_answer", "waiting_citizen", "in_progress"),
        (karim_id, "note", "in_progress", "in_progress"),
        (karim_id, "status", "in_progress", "resolved"),
        (f"citizen:{citizen}", "status", "resolved", "closed"),
        (f"citizen:{citizen}", "rating", "closed", "closed"),
        (f"citizen:{citizen}", "rating", "closed", "closed"),
    ]


def _id(database, name: str) -> int:
    from storage.models import Caseworker

    with session_scope(database) as session:
        return session.exec(select(Caseworker).where(Caseworker.name == name)).one().id


def test_a_new_request_is_filed_updated_and_on_record_at_one_moment_with_the_classifiers_guess(engine, database, staff, ana):
    code = file_request(ana)
    request = request_of(database, code)
    with session_scope(database) as session:
        created = session.exec(select(RequestEvent).where(RequestEvent.request_id == request.id, RequestEvent.kind == "created")).one()
    assert request.created_at == request.updated_at == created.at
    assert request.suggested_category_id == "utilities" and 50 < request.suggested_score <= 100  # sure, in per cent


def test_a_tracking_code_already_taken_is_never_given_again(engine, database, staff, ana):
    from storage.message_path import free_code

    taken = file_request(ana)
    offered = iter([taken, "ZZZ-ZZ2"])
    with database.connect() as conn:
        assert free_code(conn, lambda: next(offered)) == "ZZZ-ZZ2"
        tries = []
        with pytest.raises(RuntimeError, match="^could not find a free tracking code$"):
            free_code(conn, lambda: tries.append(1) or taken)
        assert len(tries) == 20


def test_no_reopens_the_request_and_alerts_the_assignee(engine, database, staff, ana):
    code = file_request(ana)
    karim = Chat(engine, "karim")
    karim.send(f"/take {code}")
    karim.send(f"/close {code} Repaired")
    pushed(database, ana)
    pushed(database, karim)
    ana.press("No")
    assert f"Request {code} has been reopened" in ana.text
    assert request_of(database, code).status == "reopened"
    assert any(f"request {code} is not resolved" in m.text for m in pushed(database, karim))


def test_the_citizen_resumes_what_they_were_doing_after_answering(engine, database, staff, ana):
    code = file_request(ana)
    ana.press("New request")  # they are starting a new request when the question comes
    Chat(engine, "karim").send(f"/close {code} Done")
    pushed(database, ana)
    ana.press("Yes, resolved")
    ana.press("⭐⭐⭐⭐")
    ana.press("Skip")
    assert "Describe your problem" in ana.text  # back where they were


def test_a_typed_number_answers_the_closure_question(engine, database, staff):
    carla = Chat(engine, "carla", channel="whatsapp")
    onboard(carla, "Español")
    code = file_request(carla, "No hay agua en el barrio desde ayer")
    Chat(engine, "karim").send(f"/close {code} Se reparó la cañería")
    pushed(database, carla)
    carla.send("1")
    carla.send("4")
    carla.send("Gracias")
    assert (request_of(database, code).status, request_of(database, code).rating) == ("closed", 4)


def test_a_citizen_trying_a_staff_command_is_refused_and_it_is_on_record(engine, database, staff, ana):
    code = file_request(ana)
    ana.send(f"/close {code} I did it myself")
    assert "only for the service's staff" in ana.text
    assert request_of(database, code).status == "new"
    with session_scope(database) as session:
        attempt = session.exec(select(Message).where(Message.status == "refused")).one()
        assert attempt.address == "console:ana" and attempt.text.startswith("/close")


def test_a_caseworker_cannot_reassign_anothers_request_but_a_supervisor_can(engine, database, staff, ana):
    code = file_request(ana)
    Chat(engine, "karim").send(f"/take {code}")
    lola = Chat(engine, "lola")
    lola.send(f"/assign {code} Lola")
    assert "assigned to Karim" in lola.text
    lola.send(f"/close {code} done")
    assert "assigned to Karim" in lola.text
    sara = Chat(engine, "sara")
    sara.send(f"/assign {code} Lola")
    assert f"{code} is now with Lola" in sara.text
    assert any(f"gave you request {code}" in m.text for m in pushed(database, lola))


def test_caseworkers_see_masked_contacts_supervisors_full(engine, database, staff):
    maria = Chat(engine, "+5492215550134", channel="whatsapp", name="María")
    onboard(maria, "Español")
    code = file_request(maria, "Se cortó la luz en toda la cuadra")
    karim = Chat(engine, "karim")
    karim.send(f"/show {code}")
    assert "+5492215550134" not in karim.text and "whatsapp:+54922****134" in karim.text
    Chat(engine, "sara").send(f"/show {code}")
    assert "whatsapp:+5492215550134" in Chat(engine, "sara").send(f"/show {code}")[0].text


@pytest.mark.parametrize(
    "command, answer",
    [
        ("/show ZZZ-999", "There is no request ZZZ-999"),
        ("/show", "Usage: /show CODE"),
        ("/reply", "Usage: /reply CODE text"),
        ("/inbx", "Did you mean /inbox?"),
        ("/frobnicate", "There is no /frobnicate"),
        ("/status {code} sleeping", "Unknown status sleeping"),
        ("/merge {code} {code}", "cannot be merged into itself"),
    ],
)
def test_bad_staff_input_gets_a_clear_answer(engine, database, staff, ana, command, answer):
    code = file_request(ana)
    karim = Chat(engine, "karim")
    karim.send(command.format(code=code))
    assert answer in karim.text


def test_a_mistyped_code_gets_a_suggestion(engine, database, staff, ana):
    code = file_request(ana)
    typo = code[:-1] + ("2" if code[-1] != "2" else "3")
    karim = Chat(engine, "karim")
    karim.send(f"/show {typo}")
    assert f"Did you mean {code}?" in karim.text


def test_reply_to_a_closed_request_is_refused(engine, database, staff, ana):
    code = file_request(ana)
    karim = Chat(engine, "karim")
    karim.send(f"/close {code} Done")
    pushed(database, ana)
    ana.press("Yes, resolved")
    karim.send(f"/reply {code} One more thing")
    assert "Reopen it first" in karim.text
    assert not [m for m in pushed(database, ana) if "One more thing" in m.text]


def test_merging_into_a_merged_request_is_refused(engine, database, staff, ana):
    first, second, third = (file_request(ana, f"No electricity again on street {n}") for n in (1, 2, 3))
    karim = Chat(engine, "karim")
    karim.send(f"/merge {second} {first}")
    assert f"{second} is merged into {first}" in karim.text
    assert any(f"continues as request {first}" in m.text for m in pushed(database, ana))
    karim.send(f"/merge {third} {second}")
    assert f"{second} is itself merged" in karim.text
    karim.send(f"/merge {second} {third}")
    assert f"{second} is already merged" in karim.text
    assert request_of(database, second).status == "duplicate"


def test_buttons_on_a_card_take_and_show(engine, database, staff, ana):
    code = file_request(ana)
    karim = Chat(engine, "karim")
    karim.send("/inbox")
    karim.press(code)  # the show button of the list
    assert "History:" in karim.text
    karim.press("Take")
    assert f"You have taken {code}" in karim.text


def test_inbox_filters(engine, database, staff, ana):
    water = file_request(ana, "No water in the pipes")
    karim = Chat(engine, "karim")
    karim.send(f"/take {water}")
    karim.send("/inbox mine")
    assert water in karim.text
    lola = Chat(engine, "lola")
    lola.send("/inbox mine")  # Karim's, not hers
    assert water not in lola.text and "Nothing in the queue" in lola.text
    lola.send("/inbox")
    assert water in lola.text  # yet it is in her department's queue
    lola.send("/inbox unassigned")
    assert "Nothing in the queue" in lola.text
    lola.send("/inbox in_progress utilities guliston")
    assert water in lola.text
    lola.send("/inbox utilites uz-syr")  # a category typed with a slip; a region by its id, with what is in it
    assert water in lola.text
    lola.send("/inbox hausing")  # another category, typed with a slip: understood, and empty
    assert "Nothing in the queue" in lola.text
    lola.send("/inbox nonsense")
    assert "I do not understand the filter nonsense" in lola.text


def test_find_and_stats(engine, database, staff, ana):
    code = file_request(ana, "Broken electric transformer, no power at all")
    root = Chat(engine, "root")
    root.send("/find TRANSFORMER")
    assert code in root.text
    root.send("/stats")
    assert "Last 30 days: 1 request\n" in root.text and "Utilities: electricity, gas and water — 1" in root.text


def test_staff_management_and_invites(engine, database, staff):
    root = Chat(engine, "root")
    root.send("/staff invite caseworker health")
    invite = root.text.split("Invite code ")[1].split()[0]
    newcomer = Chat(engine, "nodira")
    newcomer.send(f"/join {invite}")
    assert "Welcome to the staff (caseworker)" in newcomer.text
    newcomer.send("/inbox")
    assert "Nothing in the queue" in newcomer.text
    other = Chat(engine, "other")
    other.send(f"/join {invite}")  # a used code does not work twice
    assert "That invite code is not valid" in other.text
    other.send("/inbox")
    assert "only for the service's staff" in other.text
    root.send("/staff list")
    assert "nodira" in root.text and "health" in root.text
    karim = Chat(engine, "karim")
    karim.send("/staff list")
    assert "needs the role admin" in karim.text


def invite_from(root: Chat, role: str) -> str:
    root.send(f"/staff invite {role}")
    return root.text.split("Invite code ")[1].split()[0]


def test_an_invite_welcomes_a_newcomer_in_their_language_and_records_who_made_it(engine, database, staff):
    root = Chat(engine, "root")
    code = invite_from(root, "caseworker utilities")
    olim = Chat(engine, "olim")
    onboard(olim, "Русский")
    olim.send(f"/join {code.lower()}")  # typed as it was read out
    assert "Добро пожаловать" in olim.text
    olim.send("/inbox")
    assert "в очереди ничего нет" in olim.text
    with session_scope(database) as session:
        invite = session.get(StaffInvite, code)
        me = session.exec(select(Caseworker).where(Caseworker.address == "console:olim")).one()
        made_by = session.exec(select(Caseworker).where(Caseworker.name == "Root")).one()
        assert (invite.created_by, invite.used_by, me.language, me.role) == (made_by.id, me.id, "ru", "caseworker")


def test_an_invite_may_promote_someone_already_on_the_staff_who_keeps_their_language(engine, database, staff):
    with session_scope(database) as session:
        session.exec(update(Caseworker).where(Caseworker.name == "Karim").values(language="uz"))
    karim = Chat(engine, "karim")
    karim.send(f"/join {invite_from(Chat(engine, 'root'), 'supervisor utilities')}")
    assert "(supervisor)" in karim.text
    with session_scope(database) as session:
        assert session.exec(select(Caseworker.role, Caseworker.language).where(Caseworker.name == "Karim")).one() == ("supervisor", "uz")


def test_an_invite_works_until_its_last_moment(engine, database, staff, monkeypatch):
    code = invite_from(Chat(engine, "root"), "caseworker")
    with session_scope(database) as session:
        expires = session.get(StaffInvite, code).expires_at
    monkeypatch.setattr("handlers.staff.team.utcnow", lambda: expires + timedelta(microseconds=1))
    late = Chat(engine, "late")
    late.send(f"/join {code}")
    assert "That invite code is not valid" in late.text
    monkeypatch.setattr("handlers.staff.team.utcnow", lambda: expires)
    late.send(f"/join {code}")
    assert "Welcome to the staff (caseworker)" in late.text


def test_a_staff_group_works_and_its_chatter_is_left_alone(engine, database, staff, ana):
    from flows.messages import Incoming

    code = file_request(ana)
    group = "console:utilities-team"
    handled = engine.handle(Incoming("console", group, f"/take {code}", external_id="g1", sender="console:karim", private=False))
    assert f"You have taken {code}" in handled.replies[0].text and handled.replies[0].address == group
    chatter = engine.handle(Incoming("console", group, "who is on duty tomorrow?", external_id="g2", sender="console:karim", private=False))
    assert not chatter.replies
    stranger = engine.handle(Incoming("console", group, f"/close {code} x", external_id="g3", sender="console:mallory", private=False))
    assert "only for the service's staff" in stranger.replies[0].text


def test_the_card_points_at_likely_duplicates_outside_its_own_group(engine, database, staff, ana):
    first = file_request(ana, "No electricity in our street since Monday")
    neighbour = Chat(engine, "bek")
    onboard(neighbour)
    second = file_request(neighbour, "Since Monday there is no electricity in our street")
    other = file_request(neighbour, "The water pipe burst near the school")
    assert request_of(database, second).group_id == request_of(database, first).id  # one problem: grouped at once
    karim = Chat(engine, "karim")
    karim.send(f"/show {first}")
    assert f"2 reporters of one problem: {second}" in karim.text and "Possibly the same problem" not in karim.text
    karim.send(f"/unlink {second}")
    karim.send(f"/show {second}")
    assert f"Possibly the same problem: {first}" in karim.text and other not in karim.text.split("Possibly")[1]
    filed = request_of(database, second).created_at
    for changed, back in [({"category_id": "housing"}, {"category_id": "utilities"}),  # another category
                          ({"status": "closed"}, {"status": "new"}),  # done with
                          ({"created_at": filed - timedelta(days=30, seconds=1)}, {"created_at": filed - timedelta(days=30)})]:  # a month before
        _change(database, first, **changed)
        karim.send(f"/show {second}")
        assert "Possibly the same problem" not in karim.text, changed
        _change(database, first, **back)
        karim.send(f"/show {second}")
        assert f"Possibly the same problem: {first}" in karim.text, back


def _change(database, code: str, **values) -> None:
    with session_scope(database) as session:
        session.exec(update(Request).where(Request.code == code).values(**values))
