"""The staff desk word for word: scripted days at the desk, replayed and
compared with what the bot said when the script was last read and approved
(``tests/transcripts/``; see ``tests/transcript.py``).

Each script starts from the same morning: a team (Karim and Lola, caseworkers
of utilities; Dilya, caseworker of health; Sara, supervisor of utilities; Root,
an admin), Ana who writes in English and Olim who writes in Russian, and three
requests: {A} Ana's power cut, {B} Ana's clinic with no doctor (health), {C}
Olim's broken water pipe. Pablo (his phone in Spanish) and Nadia have never
written before."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.staff.team import add
from storage.db import session_scope
from tests.conversation import Chat, _take_from_outbox
from tests.test_conversations import onboard
from tests.test_staff import file_request
from tests.transcript import FOLDER, Transcript, check, script_of

SCRIPTS = sorted(path.name for path in FOLDER.glob("*.txt"))
TEAM = [("karim", "caseworker", "utilities", "Karim"), ("lola", "caseworker", "utilities", "Lola"),
        ("dilya", "caseworker", "health", "Dilya"), ("sara", "supervisor", "utilities", "Sara"), ("root", "admin", None, "Root")]


@pytest.fixture
def morning(engine, database):
    started = datetime.now(UTC)
    with session_scope(database) as session:
        for who, role, department, name in TEAM:
            add(session, f"console:{who}", role, department, name)
    ana, olim = Chat(engine, "ana"), Chat(engine, "olim")
    onboard(ana)
    onboard(olim, "Русский")
    codes = {"A": file_request(ana, "No electricity in our street for three days"),
             "B": file_request(ana, "The village clinic has no doctor and no medicines"),
             "C": file_request(olim, "Прорвало водопроводную трубу на нашей улице, вода течёт третий день")}
    people = {"ana": ana, "olim": olim} | {who: Chat(engine, who) for who, *_ in TEAM}
    # Two who never wrote before: one whose phone is set to Spanish, one who gives no hint.
    people |= {"pablo": Chat(engine, "pablo", language_hint="es"), "nadia": Chat(engine, "nadia")}
    for chat in people.values():
        _take_from_outbox(database, chat.address)  # the morning's messages are not the script's
    return Transcript(engine, people, codes, started)


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_scripted_day_at_the_desk_says_what_it_said(morning, name):
    check(name, morning.play(script_of(name)))
