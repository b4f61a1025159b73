"""``onewindow export events``: pseudonymized by default (no names, numbers
or free text; citizens as stable, keyed pseudonyms), word for word only on
request, and that request on record. On SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import csv
import getpass
import io
from datetime import timedelta

import pytest
from sqlmodel import select

from bot import exports
from bot.commands import export
from handlers.staff.team import add
from storage.db import session_scope
from storage.models import AuditEntry, utcnow
from tests.conversation import Chat, pushed
from tests.test_conversations import onboard

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


def rows(database, key: bytes | None, table: str = "events", filters: exports.Filters = exports.Filters()) -> list[dict]:
    columns, found = exports.TABLES[table](database, filters, key=key)
    return [dict(zip(columns, (str(value) for value in row))) for row in found]


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


def cli(*argv: str) -> int:
    from bot.cli import parse

    args = parse(["export", *argv])
    return args.handler(args)


@pytest.fixture
def shell(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("EXPORT_PSEUDONYM_KEY", KEY.decode())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_requests_and_messages_pseudonymized_hold_no_person(database, worked):
    [request] = rows(database, KEY, "requests")
    assert (request["request"], request["category"], request["department"], request["status"]) == (worked, "utilities", "utilities", "in_progress")
    assert request["place"] == "uz-syr-gulistan-c" and request["citizen"].startswith("c-")
    assert (request["name"], request["contact"], request["text"]) == ("", "", "[redacted]")
    assert request["assignee"].startswith("caseworker:")
    messages = rows(database, KEY, "messages")
    assert {m["direction"] for m in messages} == {"in", "out"} and len(messages) > 5
    assert {m["text"] for m in messages} <= {"", "[redacted]"}
    assert all(m["address"].startswith("a-") for m in messages)
    assert {m["request"] for m in messages} >= {worked}
    dump = repr(rows(database, KEY, "requests") + messages)
    for personal in ("Falsa", "30.123.456", "0134", "Rosa", "Giménez", "Karim", "agua"):
        assert personal not in dump


def test_requests_and_messages_with_personal_data_are_word_for_word(database, worked):
    [request] = rows(database, None, "requests")
    assert (request["name"], request["contact"], request["assignee"]) == ("Rosa Giménez", "whatsapp:+5492215550134", "Karim")
    assert request["text"] == "No hay agua en Calle Falsa 123 desde el lunes"
    said = [m["text"] for m in rows(database, None, "messages") if m["direction"] == "in"]
    assert "DNI 30.123.456, Calle Falsa 123 depto B" in said


def test_exports_pick_requests_by_status_category_department_and_day(database, worked, engine):
    from tests.test_staff import file_request

    other = Chat(engine, "ali")
    onboard(other)
    second = file_request(other, "I need a new passport, mine was stolen")
    pick = lambda **kw: [r["request"] for r in rows(database, KEY, "requests", exports.Filters(**kw))]  # noqa: E731
    assert pick() == [worked, second]
    assert pick(categories=("id_documents",)) == [second]
    assert pick(departments=("utilities",)) == [worked]
    assert pick(statuses=("new",)) == [second]
    tomorrow = utcnow() + timedelta(days=1)
    assert pick(start=tomorrow) == [] and pick(end=tomorrow) == [worked, second]
    events = rows(database, KEY, "events", exports.Filters(categories=("id_documents",)))
    assert {e["request"] for e in events} == {second}
    messages = rows(database, KEY, "messages", exports.Filters(departments=("utilities",)))
    assert messages and {m["request"] for m in messages} == {worked}


def test_the_shell_writes_xlsx_and_csv_and_records_who_took_personal_data(shell, database, worked, capsys):
    from openpyxl import load_workbook

    assert cli("requests", "--format", "xlsx", "-o", "requests.xlsx", "--department", "utilities") == 0
    sheet = load_workbook(shell / "requests.xlsx").active
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert table[0] == exports.REQUEST_COLUMNS and len(table) == 2
    assert table[1][0] == worked and table[1][10] == "[redacted]"
    assert cli("messages", "--format", "xlsx") == 2
    assert "An XLSX file needs a name" in capsys.readouterr().err
    assert cli("messages", "--with-personal-data", "-o", "messages.csv", "--from", str(utcnow().date())) == 0
    written = list(csv.DictReader((shell / "messages.csv").open(encoding="utf-8")))
    assert any(m["text"] == "DNI 30.123.456, Calle Falsa 123 depto B" for m in written)
    with session_scope(database) as session:
        assert [e.action for e in session.exec(select(AuditEntry))] == ["export messages with personal data"]
    with pytest.raises(SystemExit):
        cli("requests", "--from", "last week")
