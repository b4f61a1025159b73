"""``onewindow export events``: pseudonymized by default (no names, numbers
or free text; citizens as stable, keyed pseudonyms), word for word only on
request, and that request on record. On SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import csv
import getpass
import io

import pytest
from sqlmodel import select

from bot.commands import export
from handlers.staff.team import add
from storage.db import session_scope
from storage.models import AuditEntry
from tests.conversation import Chat, pushed

KEY = b"a-secret-for-the-tests-only"
GULISTAN = (40.4897, 68.7842)


@pytest.fixture
def worked(engine, database):
    """Rosa's request, answered by Karim with her address, and her answer with a document number."""
    with session_scope(database) as session:
        add(session, "console:karim", "caseworker", "utilities", "Karim")
        add(session, "console:root", "admin", None, "Root Admin")
    rosa = Chat(engine, "+5492215550134", channel="whatsapp", name="Rosa Giménez")
    rosa.send("/start")
    rosa.press("Español")
    rosa.share_location(*GULISTAN)
    rosa.press("yes")
    rosa.send("No hay agua en Calle Falsa 123 desde el lunes")
    rosa.send("1")
    code = rosa.handled.request_codes[0]
    karim = Chat(engine, "karim")
    karim.send(f"/take {code}")
    karim.send(f"/ask {code} ¿Cuál es su DNI y su dirección exacta?")
    pushed(database, rosa)
    rosa.send("DNI 30.123.456, Calle Falsa 123 depto B")
    karim.send(f"/note {code} Vecina de Rosa, llamar al 221 555 0134")
    return code


def rows(database, key: bytes | None) -> list[dict]:
    out = io.StringIO()
    export.write_events(database, out, key=key)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_by_default_no_names_numbers_or_free_text_and_stable_pseudonyms(database, worked):
    first = rows(database, KEY)
    dump = repr(first)
    for personal in ("Falsa", "30.123.456", "0134", "Rosa", "Giménez", "Karim", "DNI"):
        assert personal not in dump
    assert {r["kind"] for r in first} >= {"created", "assign", "status", "citizen_answer", "note"}
    assert all(r["note"] in ("", "[redacted]") for r in first)
    assert [r["note"] for r in first if r["kind"] == "note"] == ["[redacted]"]
    pseudonyms = {r["citizen"] for r in first}
    assert len(pseudonyms) == 1 and next(iter(pseudonyms)).startswith("c-")
    assert {r["actor"] for r in first if r["actor"].startswith("citizen:")} == {f"citizen:{next(iter(pseudonyms))}"}
    assert first[0]["place"] == "uz-syr-gulistan-c"  # the district, never the village

    assert rows(database, KEY) == first  # the same citizen, the same pseudonym, export after export
    assert {r["citizen"] for r in rows(database, b"another-secret-key-here")} != pseudonyms


def test_with_personal_data_everything_and_it_is_on_record(database_url, database, worked, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "all.csv"
    args = argparse.Namespace(what="events", output=str(target), with_personal_data=True, by=None)
    assert export.run(args) == 0
    full = list(csv.DictReader(target.open(encoding="utf-8")))
    assert any("Calle Falsa 123 depto B" in r["note"] for r in full) and any(r["actor_name"] == "Karim" for r in full)

    assert export.run(argparse.Namespace(what="events", output=None, with_personal_data=True, by="Root Admin")) == 0
    assert export.run(argparse.Namespace(what="events", output=None, with_personal_data=True, by="Karim")) == 2
    assert "'Karim' is not an admin" in capsys.readouterr().err
    with session_scope(database) as session:
        trail = [(e.actor, e.action, e.detail) for e in session.exec(select(AuditEntry).order_by(AuditEntry.id))]
    admin_id = trail[1][0].split(":")[1].split(" ")[0]
    assert trail == [
        (f"os:{getpass.getuser()}", "export events with personal data", f"to {target}"),
        (f"caseworker:{admin_id} (Root Admin)", "export events with personal data", "to standard output"),
    ]
