"""Who may do what at the staff desk: every command against every role, and
each caseworker kept to their own department's requests."""

from __future__ import annotations

import pytest
from sqlmodel import select

from handlers.staff.commands import COMMANDS
from handlers.staff.team import add
from storage.db import session_scope
from storage.models import Request
from tests.conversation import Chat
from tests.test_staff import ana, file_request, staff  # noqa: F401

RANK = {"caseworker": 1, "supervisor": 2, "admin": 3}
# The least role each command needs. A change here is a change of policy:
# it must be made on purpose, in the table and in this test.
POLICY = {name: "caseworker" for name in COMMANDS} | {"examples": "admin", "staff": "admin", "outbox": "admin", "demand": "supervisor",
                                                 "broadcast": "supervisor", "bazaar": "supervisor", "channels": "supervisor"}
PEOPLE = [("ana", None), ("karim", "caseworker"), ("sara", "supervisor"), ("root", "admin")]


def test_the_table_says_what_the_policy_says():
    assert {name: command.role for name, command in COMMANDS.items()} == POLICY


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_is_refused_below_its_role_and_runs_from_it(engine, database, staff, ana, name):  # noqa: F811
    needed = POLICY[name]
    for who, role in PEOPLE:
        chat = Chat(engine, who)
        chat.send(f"/{name}")
        if role is None and name == "help":  # a citizen's /help is the citizen's help
            assert "/inbox" not in chat.text and "I can:" in chat.text
        elif role is None:
            assert "only for the service's staff" in chat.text, (name, who, chat.text)
        elif RANK[role] < RANK[needed]:
            assert f"/{name} needs the role {needed}" in chat.text, (name, who, chat.text)
        else:
            assert "needs the role" not in chat.text and "only for the service's staff" not in chat.text, (name, who, chat.text)


def test_a_caseworker_sees_and_acts_on_their_own_departments_requests_only(engine, database, staff, ana):  # noqa: F811
    with session_scope(database) as session:
        add(session, "console:dilya", "caseworker", "health", "Dilya")
    light = file_request(ana, "No electricity in our street for three days")
    clinic = file_request(ana, "The village clinic has no doctor and no medicines")
    with session_scope(database) as session:
        departments = dict(session.exec(select(Request.code, Request.department_id)).all())
    assert departments == {light: "utilities", clinic: "health"}

    karim, dilya = Chat(engine, "karim"), Chat(engine, "dilya")
    karim.send("/inbox")
    assert light in karim.text and clinic not in karim.text
    dilya.send("/inbox")
    assert clinic in dilya.text and light not in dilya.text
    karim.send("/inbox all")
    assert clinic not in karim.text
    karim.send("/inbox dept:health")
    assert clinic not in karim.text
    karim.send("/find clinic doctor")
    assert clinic not in karim.text

    for command in (f"/show {clinic}", f"/take {clinic}", f"/reply {clinic} We are on it", f"/close {clinic} done"):
        karim.send(command)
        assert f"Request {clinic} belongs to another department." in karim.text, (command, karim.text)
    with session_scope(database) as session:
        request = session.exec(select(Request).where(Request.code == clinic)).one()
        assert request.status == "new" and request.assignee_id is None

    sara = Chat(engine, "sara")  # a supervisor of utilities
    root = Chat(engine, "root")  # an admin sees every department
    root.send("/inbox")
    assert light in root.text and clinic in root.text
    sara.send("/inbox")
    assert light in sara.text


def test_a_removed_member_of_staff_writes_as_a_citizen_again(engine, staff):  # noqa: F811
    from flows.messages import Incoming

    words = Incoming("console", "console:karim", text="hello")
    assert engine.desk.wants(words)  # plain words from staff are for the desk
    Chat(engine, "root").send("/staff remove Karim")
    assert not engine.desk.wants(words)
    assert not engine.desk.wants(Incoming("console", "console:nobody", text="hello"))
