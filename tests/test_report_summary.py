"""The figures a ministry asks for, from a queue whose every time is known:
how many, how fast first answered and resolved against the targets, how
many came back, how satisfied people were."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import insert

from bot.figures import summary
from storage.models import Citizen, Request, RequestEvent, utcnow
from tests.test_cli import onewindow

NOW = utcnow().replace(microsecond=0)
H = timedelta(hours=1)
VILLAGE = "uz-syr-boyovut-d-bekat"  # a village: its figures count under its district


def hours_ago(n: float):
    return NOW - n * H


# code: (category, locality, filed hours ago, first response after, resolved after, status, rating, reopened)
QUEUE = {
    "ON-TIME": ("utilities", VILLAGE, 10, 2, 5, "closed", 5, False),  # targets 8 h and 72 h: both met
    "LATE-1ST": ("utilities", VILLAGE, 20, 10, None, "in_progress", None, False),  # answered after 10 h: late
    "SILENT": ("id_documents", "ar-ba-la-plata-d-la-plata", 30, None, None, "new", None, False),  # 24 h target missed, still open
    "FRESH": ("health", None, 3, None, None, "new", None, False),  # inside its 8 h target: neither yet
    "CAME-BACK": ("utilities", VILLAGE, 100, 1, 90, "closed", 2, True),  # resolved after 90 h (late), reopened once
    "DUP": ("utilities", VILLAGE, 9, None, None, "duplicate", None, False),  # counted, never timed
    "OLD": ("health", None, 24 * 40, 1, 2, "closed", 5, False),  # before the period
}


def fill(database) -> None:
    with database.begin() as conn:
        citizen = conn.execute(insert(Citizen.__table__).returning(Citizen.__table__.c.id), {"created_at": NOW}).scalar_one()
        for code, (category, locality, ago, first, solved, status, rating, reopened) in QUEUE.items():
            filed = hours_ago(ago)
            request_id = conn.execute(insert(Request.__table__).returning(Request.__table__.c.id), {
                "code": code, "citizen_id": citizen, "category_id": category, "locality_id": locality,
                "department_id": {"utilities": "utilities", "id_documents": "documents", "health": "health"}[category],
                "channel": "console", "address": "console:x", "status": status, "kind": "request", "text": "", "attachments": [],
                "created_at": filed, "updated_at": filed, "rating": rating,
                "first_response_at": filed + first * H if first is not None else None,
                "resolved_at": filed + solved * H if solved is not None else None,
                "closed_at": filed + solved * H if status == "closed" else None,
            }).scalar_one()
            if reopened:
                conn.execute(insert(RequestEvent.__table__), {"request_id": request_id, "at": filed + 50 * H, "actor": "citizen:1",
                                                              "kind": "status", "from_status": "resolved", "to_status": "reopened"})


def test_the_summary_counts_what_happened_to_each_request(database, catalog):
    fill(database)
    with database.connect() as conn:
        report = summary(conn, catalog, NOW - timedelta(days=30), NOW + H, NOW)
    total = report.total
    assert total.requests == 6 and total.open == 3  # OLD is outside; DUP is counted, not open
    assert total.past_target == 1  # SILENT; LATE-1ST was answered and is 20 h into its 72 h to resolve
    assert total.first_response_hours == 2  # the median of 2, 10 and 1 hours
    assert total.first_response_on_time == pytest.approx(2 / 4)  # ON-TIME and CAME-BACK in time; LATE-1ST late; SILENT past due
    assert total.resolution_hours == pytest.approx((5 + 90) / 2)
    assert total.resolution_on_time == pytest.approx(1 / 2)  # CAME-BACK took 90 h of a 72 h target
    assert total.reopen_rate == pytest.approx(1 / 2)
    assert total.csat == pytest.approx(1 / 2) and total.rating == pytest.approx(3.5) and total.rated == 2
    utilities = report.by["category"]["utilities"]
    assert (utilities.requests, utilities.open, utilities.first_response_on_time) == (4, 1, pytest.approx(2 / 3))
    assert report.by["category"]["health"].first_response_on_time is None  # FRESH is inside its target
    assert set(report.by["locality"]) == {"uz-syr-boyovut-d", "ar-ba-la-plata-d", ""}
    assert report.by["locality"]["uz-syr-boyovut-d"].requests == 4
    assert set(report.by["department"]) == {"utilities", "documents", "health"}


def test_a_caseworkers_summary_holds_only_their_departments(database, catalog):
    fill(database)
    with database.connect() as conn:
        report = summary(conn, catalog, NOW - timedelta(days=30), NOW + H, NOW, departments=["documents"])
    assert report.total.requests == 1 and set(report.by["category"]) == {"id_documents"}


def test_the_summary_from_the_shell_as_a_table_and_as_csv(tmp_path):
    from bot.wiring import open_store

    database = open_store(f"sqlite:///{tmp_path / 'data' / 'onewindow.sqlite3'}")
    fill(database)
    database.dispose()
    table = onewindow("report", "summary", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "Requests filed" in table.stdout and ": 6" in table.stdout.splitlines()[0]
    assert "Utilities: electricity, gas and water" in table.stdout and "Partido de La Plata" in table.stdout
    rows = list(csv.DictReader(io.StringIO(onewindow("report", "summary", "--csv", cwd=tmp_path).stdout)))
    everything = rows[0]
    assert (everything["group"], everything["requests"], everything["first_response_on_time"], everything["csat"]) == ("all", "6", "0.5", "0.5")
    assert {r["key"] for r in rows if r["group"] == "department"} == {"utilities", "documents", "health"}
    older = list(csv.DictReader(io.StringIO(onewindow(
        "report", "summary", "--csv", "--from", str((NOW - timedelta(days=60)).date()), cwd=tmp_path).stdout)))
    assert older[0]["requests"] == "7"
    wrong = onewindow("report", "summary", "--from", "yesterday", cwd=tmp_path)
    assert wrong.returncode == 2 and "'yesterday' is not a day" in wrong.stderr
    backwards = onewindow("report", "summary", "--from", "2026-02-01", "--to", "2026-01-01", cwd=tmp_path)
    assert backwards.returncode == 2 and "--from is after --to" in backwards.stderr
