"""The service catalogue files: the shipped sample is complete and valid;
every kind of mistake in a file is reported naming the file, the service and
the field; running bots pick up a changed file at their next message and keep
the previous catalogue when the new one is broken."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from bot import services
from bot.services import SERVICES_DIR, ServiceFiles, read
from flows.service_catalogue import LANGUAGES, parse
from storage.seed import read_seed
from tests.test_cli import onewindow

CATEGORIES = {c["id"] for c in read_seed("categories.json")["categories"]}
LOCALITIES = {l["id"] for l in read_seed("localities.json")["localities"]}
UZ = json.loads((SERVICES_DIR / "uz.json").read_text("utf-8"))


def test_the_shipped_sample_has_forty_services_in_five_languages_and_says_it_is_sample():
    catalogue, problems = read(SERVICES_DIR, CATEGORIES, LOCALITIES)
    assert problems == []
    assert len(catalogue.services) >= 40
    regions = {s.region for s in catalogue.services}
    assert regions == {"uz", "ar-ba"}
    for path in SERVICES_DIR.glob("*.json"):
        data = json.loads(path.read_text("utf-8"))
        assert data["sample"] is True and data["note"].startswith("SAMPLE DATA")
    passport = catalogue.get("uz-id-card-replace")
    assert set(passport.names) >= set(LANGUAGES)
    assert passport.documents and passport.centres and passport.online.url == "https://my.gov.uz"
    assert {s.category_id for s in catalogue.services} <= CATEGORIES


def broken(change) -> dict:
    data = copy.deepcopy(UZ)
    change(data)
    return data


def first(data) -> dict:
    return data["services"][0]


MISTAKES = [
    ("unknown category", lambda d: first(d).update(category="passports"), "uz-id-card-first", "category"),
    ("a language missing", lambda d: first(d)["names"].pop("uz-Cyrl"), "uz-id-card-first", "names.uz-Cyrl"),
    ("an empty description", lambda d: first(d)["descriptions"].update(es=" "), "uz-id-card-first", "descriptions.es"),
    ("unknown document", lambda d: first(d)["documents"].append("visa"), "uz-id-card-first", "documents"),
    ("no documents", lambda d: first(d).update(documents=[]), "uz-id-card-first", "documents"),
    ("negative fee", lambda d: first(d)["fee"].update(amount=-5), "uz-id-card-first", "fee.amount"),
    ("fee as text", lambda d: first(d)["fee"].update(amount="free"), "uz-id-card-first", "fee.amount"),
    ("bad currency", lambda d: first(d)["fee"].update(currency="sum"), "uz-id-card-first", "fee.currency"),
    ("days as text", lambda d: first(d).update(days="ten"), "uz-id-card-first", "days"),
    ("unknown centre", lambda d: first(d)["where"].update(centres=["tashkent-1"]), "uz-id-card-first", "where.centres"),
    ("unknown portal", lambda d: first(d)["where"].update(online="gosuslugi"), "uz-id-card-first", "where.online"),
    ("mobile unit not a yes/no", lambda d: first(d)["where"].update(mobile_unit="yes"), "uz-id-card-first", "where.mobile_unit"),
    ("nowhere to do it", lambda d: first(d).update(where={"mobile_unit": False, "centres": [], "online": None}), "uz-id-card-first", "where"),
    ("an id used twice", lambda d: d["services"][1].update(id="uz-id-card-first"), "uz-id-card-first", "id"),
    ("no id", lambda d: first(d).pop("id"), "#1", "id"),
    ("a centre in an unknown place", lambda d: d["centres"]["syr-guliston"].update(locality="uz-nowhere"), "", "centres.syr-guliston.locality"),
    ("a portal link that is not https", lambda d: d["portals"]["mygov"].update(url="my.gov.uz"), "", "portals.mygov.url"),
    ("sample data without a note", lambda d: d.update(note=""), "", "note"),
]


@pytest.mark.parametrize("what, change, service, field", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_a_mistake_names_the_file_the_service_and_the_field(what, change, service, field):
    services_found, problems = parse(broken(change), "uz.json", CATEGORIES, LOCALITIES)
    assert problems, what
    assert any(p.file == "uz.json" and p.service == service and p.field == field for p in problems), [str(p) for p in problems]
    kept = [s.id for s in services_found].count(service)
    assert kept == (1 if what == "an id used twice" else 0)  # a broken service is never half-used


def test_a_problem_reads_as_one_line():
    _, problems = parse(broken(lambda d: first(d).update(category="passports")), "uz.json", CATEGORIES, LOCALITIES)
    assert str(problems[0]) == "uz.json: service uz-id-card-first: category: unknown category 'passports'"


def test_catalog_check_prints_one_line_per_problem_and_fails(tmp_path):
    folder = tmp_path / "services"
    folder.mkdir()
    data = broken(lambda d: (first(d).update(category="passports"), d["services"][2]["fee"].update(currency="sum")))
    (folder / "uz.json").write_text(json.dumps(data), "utf-8")
    (folder / "ar-ba.json").write_text("{not json", "utf-8")
    result = onewindow("catalog", "check", "--services", str(folder), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert "uz.json: service uz-id-card-first: category: unknown category 'passports'" in lines
    assert "uz.json: service uz-id-card-renew: fee.currency: must be a three-letter currency code" in lines
    assert any(line.startswith("ar-ba.json: file: (file): not readable JSON") for line in lines)
    assert lines[-1] == "3 problem(s) in the service catalogue"
    good = onewindow("catalog", "check", cwd=tmp_path)
    assert good.returncode == 0 and "51 services, no problems" in good.stdout


def test_a_running_bot_sees_an_edited_catalogue_and_keeps_the_old_one_when_the_edit_is_broken(tmp_path, monkeypatch):
    monkeypatch.setattr(services, "RECHECK_SECONDS", 0.0)
    folder = tmp_path / "services"
    shutil.copytree(SERVICES_DIR, folder)
    files = ServiceFiles(CATEGORIES, LOCALITIES, folder)
    assert files.current().get("uz-id-card-first").days == 10

    edited = copy.deepcopy(UZ)
    first(edited)["days"] = 3
    (folder / "uz.json").write_text(json.dumps(edited), "utf-8")
    assert files.current().get("uz-id-card-first").days == 3  # the next look, no restart

    first(edited)["category"] = "passports"
    (folder / "uz.json").write_text(json.dumps(edited) + " ", "utf-8")
    assert files.current().get("uz-id-card-first").days == 3  # broken edit: previous catalogue kept
    assert files.refresh() == []  # reported once, not on every message
