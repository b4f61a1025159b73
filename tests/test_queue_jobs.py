"""The queue's clockwork: digests to departments, round-robin assignment,
service-level alerts before and at the breach, unconfirmed closures."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from handlers.staff.team import add
from notifications import jobs
from notifications.scheduler import Scheduler
from storage.db import session_scope
from storage.models import Request, RequestEvent, utcnow
from tests.conversation import Chat, pushed
from tests.test_conversations import onboard


@pytest.fixture
def ana(engine):
    chat = Chat(engine, "ana")
    onboard(chat)
    return chat


def file_request(chat: Chat, words: str) -> str:
    chat.send(words)
    chat.press("yes")
    if any("it is a new request" in label for label in chat.choices):  # "you already asked this": no, it is new
        chat.press("it is a new request")
    return chat.handled.request_codes[0]


def staff(database, *people):
    with session_scope(database) as session:
        for address, role, department, name in people:
            add(session, address, role, department, name)


def request(database, code):
    with session_scope(database) as session:
        return session.exec(select(Request).where(Request.code == code)).one()


def test_a_department_gets_one_digest_of_its_new_requests(engine, database, catalog, ana):
    staff(database, ("console:karim", "caseworker", "utilities", "Karim"), ("console:hana", "caseworker", "health", "Hana"))
    power = file_request(ana, "No electricity in the whole street")
    water = file_request(ana, "No water in the pipes since Monday")
    clinic = file_request(ana, "The clinic has no doctor this week")

    assert jobs.send_digests(database, catalog, utcnow()) == 3
    (digest,) = pushed(database, Chat(engine, "karim"))
    assert digest.text.startswith("🆕 2 new requests for Utilities and roads") and power in digest.text and water in digest.text
    (other,) = pushed(database, Chat(engine, "hana"))
    assert clinic in other.text and power not in other.text
    assert jobs.send_digests(database, catalog, utcnow()) == 0  # nobody is told twice


def test_requests_wait_for_a_department_with_staff(database, catalog, ana):
    file_request(ana, "No electricity in the whole street")
    assert jobs.send_digests(database, catalog, utcnow()) == 0
    staff(database, ("console:karim", "caseworker", "utilities", "Karim"))
    assert jobs.send_digests(database, catalog, utcnow()) == 1


def test_round_robin_gives_each_new_request_to_whoever_waited_longest(database, catalog, ana):
    staff(database, ("console:a", "caseworker", "social", "Aziza"), ("console:b", "caseworker", "social", "Bekzod"))
    codes = [file_request(ana, f"My pension has not arrived for {n} months") for n in (2, 3, 4)]
    assert {request(database, c).department_id for c in codes} == {"social"}
    jobs.send_digests(database, catalog, utcnow())
    assignees = [request(database, c).assignee_id for c in codes]
    assert assignees[0] != assignees[1] and assignees[0] == assignees[2]


def test_supervisors_are_alerted_before_and_at_the_breach_once_each(engine, database, catalog, ana):
    staff(database, ("console:sara", "supervisor", "utilities", "Sara"))
    code = file_request(ana, "No electricity in the whole street")  # utilities: first response within 8 hours
    created = request(database, code).created_at
    sara = Chat(engine, "sara")

    assert jobs.check_deadlines(database, catalog, created + timedelta(hours=1)) == 0
    assert jobs.check_deadlines(database, catalog, created + timedelta(hours=7)) == 1
    (warning,) = pushed(database, sara)
    assert warning.text.startswith(f"⏰ {code} is due for its first response")
    assert jobs.check_deadlines(database, catalog, created + timedelta(hours=7, minutes=30)) == 0
    assert jobs.check_deadlines(database, catalog, created + timedelta(hours=8)) == 1
    (breach,) = pushed(database, sara)
    assert breach.text.startswith(f"🚨 {code} is overdue")
    assert jobs.check_deadlines(database, catalog, created + timedelta(hours=9)) == 0
    with session_scope(database) as session:
        kinds = [e.kind for e in session.exec(select(RequestEvent).order_by(RequestEvent.id))]
        assert kinds == ["created", "sla_warning", "sla_breach"]


def test_no_answer_in_three_days_closes_as_unconfirmed(engine, database, catalog, ana):
    staff(database, ("console:karim", "caseworker", "utilities", "Karim"))
    code = file_request(ana, "No electricity in the whole street")
    Chat(engine, "karim").send(f"/close {code} Repaired")
    pushed(database, ana)
    resolved_at = request(database, code).resolved_at
    assert jobs.close_unconfirmed(database, resolved_at + timedelta(days=2)) == 0
    assert jobs.close_unconfirmed(database, resolved_at + timedelta(days=3, minutes=1)) == 1
    assert request(database, code).status == "closed"
    (notice,) = pushed(database, ana)
    assert "closed, as we did not hear back" in notice.text
    ana.send("1")  # a late answer to the old question changes nothing
    assert request(database, code).status == "closed" and "How would you rate" not in ana.text


async def test_the_scheduler_runs_the_jobs_and_says_it_is_alive(database, catalog, ana):
    staff(database, ("console:karim", "caseworker", "utilities", "Karim"))
    code = file_request(ana, "No electricity in the whole street")
    told = asyncio.Event()
    scheduler = Scheduler(database, catalog, on_queued=told.set)
    scheduler.start()
    try:
        await asyncio.wait_for(told.wait(), 10)
    finally:
        scheduler.shutdown()
    assert scheduler.alive_at is not None
    assert request(database, code).digested_at is not None
