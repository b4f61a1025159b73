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

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handlers.staff.team import add
from storage.db import session_scope
from tests.conversation import Chat, _take_from_outbox
from tests.test_conversations import onboard
from tests.test_staff import file_request
from tests.transcript import FOLDER, Transcript, check, expected_of, script_of

SCRIPTS = sorted(path.name for path in FOLDER.glob("*.txt"))
TEAM = [("karim", "caseworker", "utilities", "Karim"), ("lola", "caseworker", "utilities", "Lola"),
        ("dilya", "caseworker", "health", "Dilya"), ("sara", "supervisor", "utilities", "Sara"), ("root", "admin", None, "Root")]


def _the_morning(engine, database) -> tuple[dict[str, str], datetime]:
    """The team, Ana and Olim, and their three requests: the codes and when it began."""
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
    for who in ["ana", "olim"] + [who for who, *_ in TEAM]:
        _take_from_outbox(database, f"console:{who}")  # the morning's messages are not the script's
    return codes, started


# On SQLite the morning is lived once and its store copied for each script.
_SQLITE_MORNING: dict[str, object] = {}


def _sqlite_morning(template: Path) -> dict[str, object]:
    if not _SQLITE_MORNING:
        from bot.catalog import Catalog
        from bot.engine import Engine
        from bot.wiring import open_store

        path = template.with_name(f"morning-{os.getpid()}.sqlite3")
        shutil.copyfile(template, path)
        database = open_store(f"sqlite:///{path}")
        try:
            codes, started = _the_morning(Engine(database, Catalog.from_store(database)), database)
        finally:
            database.dispose()
        _SQLITE_MORNING.update(path=path, codes=codes, started=started, ended=datetime.now(UTC))
    return _SQLITE_MORNING


def _holds_a_time(column) -> bool:
    try:
        return getattr(column.type, "impl", column.type).python_type is datetime
    except NotImplementedError:  # a type that does not say
        return False


def _brought_forward(database, by: timedelta) -> None:
    """Move every time stored in a copy of the morning forward by `by`, so the
    morning has just happened however long ago it was lived: a script's ages
    and response times must not grow with the minutes a long run takes."""
    from sqlalchemy import select, update
    from sqlmodel import SQLModel

    with database.begin() as connection:
        for table in SQLModel.metadata.sorted_tables:
            times = [column for column in table.columns if _holds_a_time(column)]
            keys = list(table.primary_key.columns)
            if not times or not keys:
                continue
            for row in connection.execute(select(*keys, *times)).all():
                moved = {column.name: row[len(keys) + i] + by for i, column in enumerate(times) if row[len(keys) + i] is not None}
                if moved:
                    connection.execute(update(table).where(*(key == row[i] for i, key in enumerate(keys))).values(**moved))


def warm_for_mutants(template: Path) -> None:
    """Called by ``tests/conftest.py`` in the process mutmut forks each mutant's run from."""
    _sqlite_morning(template)


@pytest.fixture
def morning(request, database_url, tmp_path):
    from bot.catalog import Catalog
    from bot.engine import Engine
    from bot.wiring import open_store

    lived = _sqlite_morning(request.getfixturevalue("migrated_sqlite")) if database_url.startswith("sqlite") else None
    if lived:
        store = tmp_path / "morning.sqlite3"
        shutil.copyfile(lived["path"], store)
        database_url = f"sqlite:///{store}"
    database = open_store(database_url)
    engine = Engine(database, Catalog.from_store(database))
    if lived:
        by = datetime.now(UTC) - lived["ended"]
        _brought_forward(database, by)
        started = lived["started"] + by
        codes = dict(lived["codes"])
    else:
        codes, started = _the_morning(engine, database)
    people = {who: Chat(engine, who) for who in ["ana", "olim"] + [who for who, *_ in TEAM]}
    # Two who never wrote before: one whose phone is set to Spanish, one who gives no hint.
    people |= {"pablo": Chat(engine, "pablo", language_hint="es"), "nadia": Chat(engine, "nadia")}
    yield Transcript(engine, people, codes, started)
    database.dispose()


def _some_replies_did_not_arrive(day: Transcript) -> None:
    """Ana's registration for {A} failed for good (her number, quoted by the
    channel); Olim's latest reply is held until he writes."""
    from sqlmodel import select

    from storage.models import Message, Request

    with session_scope(day.engine.database) as session:
        request = session.exec(select(Request).where(Request.code == day.codes["A"])).one()
        failed = session.exec(select(Message).where(Message.request_id == request.id, Message.direction == "out")
                              .order_by(Message.id)).first()
        failed.status, failed.error = "failed", "Twilio 63024: +5492215550134 is not a WhatsApp number"
        failed.address = "whatsapp:+5492215550134"
        held = session.exec(select(Message).where(Message.address == "console:olim", Message.direction == "out")
                            .order_by(Message.id.desc())).first()
        held.status, held.error = "held", "outside WhatsApp's 24-hour window " + "and no template fits; " * 10
        session.add_all([failed, held])


def _staff_who_read_other_languages(day: Transcript) -> None:
    """Timur, a supervisor of utilities who reads Russian, and Rosa, an
    admin who reads Spanish, join the team."""
    with session_scope(day.engine.database) as session:
        add(session, "console:timur", "supervisor", "utilities", "Timur", "ru")
        add(session, "console:rosa", "admin", None, "Rosa", "es")
    day.people |= {"timur": Chat(day.engine, "timur"), "rosa": Chat(day.engine, "rosa")}


# What a script needs that nobody can type: done to the store before it is played.
BEFORE = {"outbox.txt": _some_replies_did_not_arrive, "languages.txt": _staff_who_read_other_languages}


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_scripted_day_at_the_desk_says_what_it_said(morning, name):
    BEFORE.get(name, lambda day: None)(morning)
    check(name, morning.play(script_of(name), expected_of(name)))
