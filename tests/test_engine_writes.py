"""What the engine writes for a message, read back the way staff and the
outbox read it: the conversation on a request's card, the place a citizen
named, the time a message was written, the reason a message waits for a
person, and what one turn's actions see of each other."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import select

import bot.engine
from bot.engine import Engine
from flows import actions as act
from flows.core import Result
from flows.i18n import text
from flows.messages import Incoming, Outgoing
from notifications.outbox import to_outgoing
from storage.db import session_scope
from storage.models import Message, NamedPlace, Request, ServiceQuestion, utcnow
from tests.conversation import Chat
from tests.test_conversation_trust import citizen_of, name_a_village_not_listed
from tests.test_conversations import onboard
from tests.test_engine_together import commits
from tests.test_staff import file_request, staff  # noqa: F401

LA_PLATA = "ar-ba-la-plata-d"


def rows_of(database, address: str, direction: str) -> list[Message]:
    with session_scope(database) as session:
        return list(session.exec(select(Message).where(Message.address == address, Message.direction == direction).order_by(Message.id)))


# -- what staff read on a request's card ------------------------------------------

def test_the_request_card_shows_the_citizens_words_and_the_bots_replies_about_it(engine, database, staff):
    ana = Chat(engine, "ana")
    onboard(ana)
    code = file_request(ana)
    registered = next(r.text for r in ana.replies if code in r.text)
    card = Chat(engine, "karim").send(f"/show {code}")[0].text
    assert "← [button]" in card  # the press that filed it
    assert f"→ {registered.partition(chr(10) * 2)[0]}" in card  # the answer with its tracking code
    request = next(iter(_requests(database)))
    replies = [row for row in rows_of(database, ana.address, "out") if row.request_id == request.id]
    assert replies and all(row.citizen_id == request.citizen_id for row in replies)


def _requests(database) -> list[Request]:
    with session_scope(database) as session:
        return list(session.exec(select(Request)))


def test_a_village_not_in_the_list_is_kept_under_its_district_with_who_named_it(engine, database):
    ana = Chat(engine, "ana")
    before = utcnow()
    name_a_village_not_listed(ana, "Yangiobod")
    citizen = citizen_of(database, ana.address)
    with session_scope(database) as session:
        (named,) = session.exec(select(NamedPlace)).all()
    assert (named.name, named.parent_id, named.citizen_id) == ("Yangiobod", citizen.locality_id, citizen.id)
    assert named.parent_id is not None and before - timedelta(seconds=1) <= named.created_at <= utcnow()


def test_a_message_is_stored_at_the_time_it_was_written_not_when_a_weak_network_delivered_it(engine, database):
    written = utcnow() - timedelta(hours=3)
    engine.handle(Incoming("console", "console:ana", text="hello", external_id="late-1", received_at=written))
    (inbound,) = rows_of(database, "console:ana", "in")
    assert inbound.created_at.replace(tzinfo=None) == written.replace(tzinfo=None)
    assert (inbound.attempts, inbound.next_attempt_at, inbound.sent_at, inbound.error) == (0, None, None, None)


def test_the_name_a_channel_shows_is_kept_for_staff_cut_to_its_column_and_none_is_none(engine, database):
    engine.handle(Incoming("console", "console:ana", text="hello", external_id="n-1", name="Ana " + "María " * 50))
    engine.handle(Incoming("console", "console:ben", text="hello", external_id="n-2"))
    assert citizen_of(database, "console:ana").display_name == ("Ana " + "María " * 50)[:200]
    assert citizen_of(database, "console:ben").display_name is None


def test_a_conversation_says_when_it_last_moved(engine, database):
    from storage.models import Conversation

    def moved() -> datetime:
        with session_scope(database) as session:
            return session.get(Conversation, "console:ana").updated_at

    engine.handle(Incoming("console", "console:ana", text="hello", external_id="u-1"))
    first = moved()
    engine.handle(Incoming("console", "console:ana", text="menu", external_id="u-2"))
    assert moved() > first


def test_start_after_stop_brings_the_announcements_back(engine, database):
    ana = Chat(engine, "ana")
    onboard(ana)
    ana.send("STOP")
    assert citizen_of(database, ana.address).broadcasts_opted_out_at is not None
    ana.send("START")
    assert citizen_of(database, ana.address).broadcasts_opted_out_at is None


def test_asking_for_my_data_the_privacy_reply_leaves_the_outbox_with_its_document(engine, database):
    ana = Chat(engine, "ana")
    onboard(ana)
    ana.send("/mydata")
    ana.press("file")
    [queued] = [r for r in ana.replies if r.document]
    assert queued.document != act.SendMyData.PLACEHOLDER
    [row] = [row for row in rows_of(database, ana.address, "out") if (row.payload or {}).get("document")]
    assert to_outgoing(row).document == queued.document


# -- one turn's actions, as the flows hand them over --------------------------------

@pytest.fixture
def flows_say(monkeypatch):
    """Make the flows answer the next message with these actions (and replies)."""
    def answer(actions: list, replies: list[str] = ()):
        def respond(state, msg, view):
            return Result([Outgoing(msg.address, said) for said in replies], state, list(actions))
        monkeypatch.setattr(bot.engine, "respond", respond)
    return answer


def _onboarded(engine) -> Chat:
    ana = Chat(engine, "ana")
    onboard(ana)
    return ana


def test_a_place_and_language_set_in_the_same_turn_go_with_the_request_filed_in_it(engine, database, flows_say):
    ana = _onboarded(engine)
    assert citizen_of(database, ana.address).locality_id != LA_PLATA
    flows_say([act.SetLocality(LA_PLATA), act.SetLanguage("es"),
               act.SubmitRequest("T01-AAA", "roads_infrastructure", "Un bache enorme en la calle 7")], ["Registrado"])
    ana.send("Un bache enorme en la calle 7")
    [request] = _requests(database)
    assert (request.locality_id, request.language, request.department_id) == (LA_PLATA, "es", "obras_ba")
    assert [r.request_id for r in rows_of(database, ana.address, "out")][-1] == request.id


def test_a_question_about_a_service_is_counted_for_the_place_set_in_the_same_turn(engine, database, flows_say):
    ana = _onboarded(engine)
    flows_say([act.SetLocality(LA_PLATA), act.NoteQuestion(service_id=None, visit_scheduled=False)], ["Anotado"])
    ana.send("¿Cuándo vienen?")
    with session_scope(database) as session:
        (question,) = session.exec(select(ServiceQuestion)).all()
    assert question.locality_id == LA_PLATA


def test_visit_replies_are_in_the_language_set_in_the_same_turn(engine, database, flows_say):
    ana = _onboarded(engine)
    flows_say([act.SetLanguage("ru"), act.CancelBooking(booking_id=999)], [text("ru", "visits_cancelled")])
    assert [r.text for r in ana.send("отмена")] == [text("ru", "visits_nothing_to_cancel")]


def test_visit_replies_are_in_the_citizens_own_language_when_the_turn_sets_none(engine, database, flows_say):
    olga = Chat(engine, "olga")
    onboard(olga, "Русский")
    flows_say([act.CancelBooking(booking_id=999)], [text("ru", "visits_cancelled")])
    assert [r.text for r in olga.send("отмена")] == [text("ru", "visits_nothing_to_cancel")]


def test_two_citizens_writing_at_once_share_one_commit(engine, database):
    counted = commits(database)
    done = engine.handle_together([Incoming("console", f"console:{name}", text="hello", external_id=f"c-{name}") for name in ("ana", "ben")])
    assert len(counted) == 1 and all(handled.replies for handled in done)


def test_a_message_flagged_for_a_person_keeps_the_reason(engine, database, flows_say):
    ana = _onboarded(engine)
    flows_say([act.FlagForPerson("voice note")], ["A person will listen"])
    ana.send("", external_id="voice-1")
    inbound = rows_of(database, ana.address, "in")[-1]
    assert (inbound.status, inbound.error) == ("needs_attention", "voice note")


def test_an_action_the_engine_does_not_know_keeps_the_message_for_a_person_with_the_reason(engine, database, flows_say):
    ana = _onboarded(engine)
    flows_say([object()], ["never sent"])
    handled = engine.handle(Incoming("console", ana.address, text="hi", external_id="odd-1"))
    assert handled.failed and [r.text for r in handled.replies] == [text("en", "apology")]
    inbound = rows_of(database, ana.address, "in")[-1]
    assert inbound.status == "needs_attention" and "TypeError: unknown action <object object" in inbound.error
    # the traceback as Python prints it, its end kept when it is longer than the column
    assert '\n  File "' in inbound.error and inbound.error.endswith(">\n") and len(inbound.error) <= bot.engine.MAX_ERROR


# -- a store that says "not now" --------------------------------------------------

@pytest.fixture
def failing_loads(monkeypatch):
    """Make loading a conversation fail the first ``times`` tries with ``error``; counts the tries."""
    tries = []

    def fail(error: Exception, times: int):
        real = bot.engine.path.load_turn

        def load_turn(conn, address, author):
            tries.append(address)
            if len(tries) <= times:
                raise error
            return real(conn, address, author)
        monkeypatch.setattr(bot.engine.path, "load_turn", load_turn)
        return tries
    return fail


BUSY = OperationalError("SELECT", {}, Exception("database is locked"))
RACE = IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed: citizen.id"))


@pytest.mark.parametrize("error", [BUSY, RACE], ids=["busy", "race"])
def test_a_store_busy_once_costs_the_citizen_nothing(engine, database, failing_loads, error):
    tries = failing_loads(error, times=1)
    handled = engine.handle(Incoming("console", "console:ana", text="hello", external_id="busy-1"))
    assert len(tries) == 2 and not handled.failed and not handled.duplicate and handled.replies
    assert [row.status for row in rows_of(database, "console:ana", "in")] == ["processed"]


@pytest.mark.parametrize("error", [BUSY, RACE], ids=["busy", "race"])
def test_a_store_busy_three_times_keeps_the_message_for_a_person_and_apologises(engine, database, failing_loads, error):
    tries = failing_loads(error, times=99)
    handled = engine.handle(Incoming("console", "console:ana", text="hello", external_id="busy-2"))
    assert len(tries) == 3 and handled.failed and [r.text for r in handled.replies] == [text("en", "apology")]
    [kept] = rows_of(database, "console:ana", "in")
    assert kept.status == "needs_attention" and f"{type(error).__name__}: " in kept.error


# -- messages that arrive together -------------------------------------------------

def test_group_chatter_a_citizen_and_a_staff_command_together_each_get_their_own_answer(engine, database, staff):
    chatter = Incoming("console", "console:group-1", text="good morning all", external_id="g-1", sender="console:passerby", private=False)
    citizen = Incoming("console", "console:ana", text="hello", external_id="a-1")
    command = Incoming("console", "console:karim", text="/inbox", external_id="k-1")
    ignored, greeted, desk = engine.handle_together([chatter, citizen, command])
    assert (ignored.replies, ignored.by_desk, ignored.failed) == ([], False, False)
    assert greeted.replies and not greeted.by_desk
    assert desk.by_desk and desk.replies
    assert rows_of(database, "console:group-1", "in") == []


def test_help_in_a_staff_group_is_the_desks_when_staff_ask_and_nobodys_when_others_do(engine, database, staff):
    asked = Incoming("console", "console:team", text="/help", external_id="t-1", sender="console:karim", private=False)
    assert engine.handle(asked).by_desk
    chatter = Incoming("console", "console:team", text="/help", external_id="t-2", sender="console:passerby", private=False)
    handled = engine.handle(chatter)
    assert (handled.by_desk, handled.replies) == (False, [])
    words = Incoming("console", "console:team", text="who takes the water ones?", external_id="t-3", sender="console:karim", private=False)
    assert (engine.handle(words).by_desk, len(rows_of(database, "console:team", "in"))) == (False, 1)


def test_a_redelivery_among_messages_handled_together_is_reported_as_one(engine, database):
    first = Incoming("console", "console:ana", text="hello", external_id="r-1")
    engine.handle(first)
    again, other = engine.handle_together([first, Incoming("console", "console:ben", text="hello", external_id="r-2")])
    assert again.duplicate and not again.replies
    assert other.replies and not other.duplicate
    assert len(rows_of(database, "console:ana", "in")) == 1


def test_a_staff_command_whose_reading_breaks_is_kept_for_a_person(engine, database, monkeypatch):
    def broken(msg):
        raise RuntimeError("the desk could not read it")
    monkeypatch.setattr(engine.desk, "claims", broken)
    handled = engine.handle(Incoming("console", "console:karim", text="/inbox", external_id="b-1"))
    assert handled.failed and handled.replies
    [kept] = rows_of(database, "console:karim", "in")
    assert kept.status == "needs_attention" and "RuntimeError: the desk could not read it" in kept.error


def test_the_outbox_is_woken_when_a_message_queued_replies_and_only_then(database, catalog):
    woken = []
    engine = Engine(database, catalog, on_queued=lambda: woken.append(1))
    engine.handle(Incoming("console", "console:group-1", text="chatter", external_id="w-1", sender="console:x", private=False))
    assert woken == []
    engine.handle(Incoming("console", "console:ana", text="hello", external_id="w-2"))
    assert woken == [1]


def test_each_message_handled_together_needs_its_own_also(engine):
    msg = Incoming("console", "console:ana", text="hello", external_id="x-1")
    with pytest.raises(ValueError):
        engine.handle_together([msg, msg], also=[None])


def test_with_no_public_address_the_dashboard_link_is_on_this_same_server(engine, staff):
    answer = Chat(engine, "karim").send("/dashboard")[0].text
    assert answer.splitlines()[-1].startswith("/dashboard/signin/")


def test_the_dashboard_link_leads_to_the_public_address_given(database, catalog, staff):
    engine = Engine(database, catalog, web_url="https://onewindow.example.org/")
    answer = Chat(engine, "karim").send("/dashboard")[0].text
    assert answer.splitlines()[-1].startswith("https://onewindow.example.org/dashboard/signin/")
