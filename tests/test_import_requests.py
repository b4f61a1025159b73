"""``onewindow import requests``: an office's old sheet comes in cleanly —
messy dates, phones, names and places read, unreadable rows reported by
line, one request's rows grouped and traps kept apart, nothing imported
twice, nothing written on a dry run."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import func, select

from bot import cli
from bot.sheet_import import columns, read_date, read_phone
from storage.db import session_scope
from storage.models import Request

FIXTURES = Path(__file__).parent / "fixtures" / "import"


@pytest.fixture
def shell(database, database_url, monkeypatch, capsys):
    """``onewindow`` from the shell on the test's store: (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", database_url)

    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def count(database, **where) -> int:
    with session_scope(database) as session:
        statement = select(func.count()).select_from(Request)
        for name, value in where.items():
            statement = statement.where(getattr(Request, name) == value)
        return session.exec(statement).one()


@pytest.mark.parametrize("sheet", ["old_requests.csv", "old_requests_uz.csv"])
def test_a_sheet_imports_once_reports_unreadable_rows_and_keeps_traps_apart(shell, database, sheet):
    truth = json.loads((FIXTURES / sheet).with_suffix(".truth.json").read_text("utf-8"))
    code, out, _ = shell("import", "requests", str(FIXTURES / sheet), "--json")
    assert code == 0
    result = json.loads(out)  # exactly one JSON object
    assert set(result) == {"rows", "imported", "skipped", "duplicate_groups"}
    assert [s["row"] for s in result["skipped"]] == truth["unreadable_rows"]
    assert result["rows"] == result["imported"] + len(result["skipped"])
    assert count(database) == result["imported"]
    for a, b in truth["traps"]:
        assert not any(a in group and b in group for group in result["duplicate_groups"]), (a, b)
    in_groups = sum(len(g) - 1 for g in result["duplicate_groups"])
    assert count(database, status="duplicate") == in_groups
    assert count(database, address="") == result["imported"]  # nobody is messaged because of an import

    again = json.loads(shell("import", "requests", str(FIXTURES / sheet), "--json")[1])
    assert again["imported"] == 0 and again["duplicate_groups"] == result["duplicate_groups"]
    assert count(database) == result["imported"]


def test_a_dry_run_writes_nothing_and_says_what_would_be_imported(shell, database):
    code, out, err = shell("import", "requests", str(FIXTURES / "old_requests.csv"), "--dry-run")
    assert code == 0 and count(database) == 0
    assert "would be imported" in out and "133" in out
    assert "row 37: skipped: no request text" in err


def test_an_xlsx_in_russian_with_columns_in_any_order_and_excel_dates(shell, database, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Статус", "Текст обращения", "Телефон", "ФИО", "Дата", "Махалля"])
    sheet.append(["в работе", "Нет воды на улице Навои уже неделю", 998901234567, "Каримов Азиз", datetime(2024, 9, 3), "Bekat"])
    sheet.append(["решено", "Свет отключили в квартале", "+998 90 123 45 67", "КАРИМОВ А.", "03.09.2024", "Бекат"])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["", "", "90 555 11 22", "Ким Ольга", "4 сентября 2024", "Бекат"])
    sheet.append(["", "-", "90 555 11 23", "Ли Анна", "5 сентября 2024", "Бекат"])
    path = tmp_path / "старые_обращения.xlsx"
    book.save(path)

    result = json.loads(shell("import", "requests", str(path), "--json")[1])
    assert result["rows"] == 5 and result["imported"] == 2
    assert result["skipped"] == [{"row": 3, "reason": "empty row"}, {"row": 4, "reason": "no request text"},
                                 {"row": 5, "reason": "no request text"}]
    with session_scope(database) as session:
        water, power = session.exec(select(Request).order_by(Request.id)).all()
    assert water.created_at.date() == date(2024, 9, 3) and water.status == "in_progress" and water.category_id == "utilities"
    assert power.status == "closed" and power.locality_id == water.locality_id and water.locality_id is not None
    assert water.locality_id.endswith("bekat")


def test_a_file_without_a_text_column_is_one_sentence(shell, tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_text("fecha,nombre,telefono\n01/02/2024,Ana,221 15 301-5522\n", "utf-8")
    code, _, err = shell("import", "requests", str(path))
    assert code == 1 and "no column with the request's text" in err and "Traceback" not in err
    assert shell("import", "requests", str(tmp_path / "missing.csv"))[0] == 2


@pytest.mark.parametrize("written, expected", [
    ("2024-09-03", date(2024, 9, 3)), ("03/09/2024", date(2024, 9, 3)), ("3-9-24", date(2024, 9, 3)),
    ("03.09.2024", date(2024, 9, 3)), ("12 mar 2024", date(2024, 3, 12)), ("16 sept 2024", date(2024, 9, 16)),
    ("27 fevral 2024", date(2024, 2, 27)), ("11 iyun 2024", date(2024, 6, 11)), ("5 марта 2024", date(2024, 3, 5)),
    ("7 de febrero de 2024", date(2024, 2, 7)), ("45538", date(2024, 9, 3)), ("31/02/2024", None), ("31.11.2024", None), ("", None), ("mañana", None),
])
def test_dates_as_clerks_write_them(written, expected):
    assert read_date(written) == expected


@pytest.mark.parametrize("written, region, expected", [
    ("221 15 301-5522", "AR", "+5492213015522"), ("(0221) 15 456-7890", "AR", "+5492214567890"),
    ("+54 9 11 3901-2288", "AR", "+5491139012288"), ("011 4212-7750", "AR", "+541142127750"),
    ("+998 90 100 10 10", "UZ", "+998901001010"), ("90 100 10 10", "UZ", "+998901001010"),
    ("sin datos", "AR", None), ("", "UZ", None), ("12", "AR", None),
])
def test_phones_as_clerks_write_them(written, region, expected):
    assert read_phone(written, region) == expected


@pytest.mark.parametrize("header, expected", [
    (["Fecha", "Localidad", "Apellido y Nombre", "Motivo", "Teléfono", "Estado", "Categoría"],
     {"date": 0, "locality": 1, "name": 2, "text": 3, "phone": 4, "status": 5, "category": 6}),
    (["T/r", "F.I.O.", "Mahalla/Qishloq", "Telefon", "Sana", "Murojaat matni", "Turi", "Holati"],
     {"name": 1, "locality": 2, "phone": 3, "date": 4, "text": 5, "category": 6, "status": 7}),
    (["Status", "Text", "Phone", "Name", "Date", "Village"],
     {"status": 0, "text": 1, "phone": 2, "name": 3, "date": 4, "locality": 5}),
])
def test_columns_are_found_by_their_header_in_any_language_and_order(header, expected):
    assert columns(header) == expected
