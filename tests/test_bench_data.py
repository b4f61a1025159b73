"""Checks of the held-out evaluation data in bench/data/.

The benchmarks trust these files: a row with a category that does not exist,
a language missing for a category, or a held-out message that slipped into the
training examples would make every figure they print meaningless. These tests
check the shape of the data, never what any model answers on it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DATA = ROOT / "bench" / "data"
HELDOUT = DATA / "heldout.tsv"
LANGS = ["uz", "uz-Cyrl", "ru", "es", "en"]
INTENTS = {"request", "question", "other"}
CATEGORIES = [c["id"] for c in json.loads((ROOT / "storage" / "seed" / "categories.json").read_text("utf-8"))["categories"]]


def data_lines(path: Path) -> list[list[str]]:
    lines = path.read_text("utf-8").splitlines()
    assert lines and lines[0].startswith("# "), f"{path.name}: the first line is the header comment"
    return [line.split("\t") for line in lines[1:] if line.strip() and not line.startswith("#")]


def normal(text: str) -> str:
    """Lower case, no accents or punctuation, single spaces: what a copy keeps."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.findall(r"\w+", text))


@pytest.fixture(scope="module")
def heldout() -> list[dict]:
    header = HELDOUT.read_text("utf-8").splitlines()[0]
    assert header == "# category\tintent\tlanguage\tdifficulty\ttext"
    rows = []
    for n, fields in enumerate(data_lines(HELDOUT), 2):
        assert len(fields) == 5, f"line {n}: {len(fields)} fields"
        rows.append(dict(zip(["category", "intent", "language", "difficulty", "text"], fields), line=n))
    return rows


def test_heldout_rows_are_well_formed(heldout):
    assert len(heldout) >= 500
    for row in heldout:
        where = f"line {row['line']}"
        assert row["category"] in CATEGORIES, where
        assert row["intent"] in INTENTS, where
        assert row["language"] in LANGS, where
        assert row["difficulty"] in {"easy", "hard"}, where
        assert row["text"].strip() == row["text"] and row["text"], where
        if row["intent"] == "other":
            assert row["category"] == "other", f"{where}: a greeting or chit-chat has no department"


def test_heldout_has_no_repeated_message(heldout):
    counts = Counter(normal(row["text"]) for row in heldout)
    assert [text for text, n in counts.items() if n > 1] == []


def test_heldout_covers_every_category_in_every_language(heldout):
    seen = {(row["language"], row["category"]) for row in heldout}
    missing = [(lang, cat) for lang in LANGS for cat in CATEGORIES if (lang, cat) not in seen]
    assert missing == []


def test_heldout_mix_of_intents_and_difficulty(heldout):
    n = len(heldout)
    intents = Counter(row["intent"] for row in heldout)
    assert 0.20 <= intents["question"] / n <= 0.32
    assert 0.06 <= intents["other"] / n <= 0.12
    assert intents["question"] + intents["request"] >= 120
    for lang in LANGS:
        rows = [row for row in heldout if row["language"] == lang]
        assert {row["intent"] for row in rows} == INTENTS, lang
        hard = sum(row["difficulty"] == "hard" for row in rows)
        assert 0.4 <= hard / len(rows) <= 0.7, lang


def training_texts() -> str:
    """Every file the classifier may learn from, normalized and joined."""
    paths = [ROOT / "tests" / "fixtures" / "classifier_cases.tsv"]
    examples = ROOT / "flows" / "examples"
    if examples.is_dir():
        paths += sorted(p for p in examples.rglob("*") if p.is_file())
    texts = []
    for path in paths:
        if path.is_file():
            texts.append(normal(path.read_text("utf-8", errors="replace")))
    return " " + " | ".join(texts) + " "


def test_no_heldout_message_is_in_the_training_data(heldout):
    """Held-out means never trained on: a copied message would inflate every figure."""
    training = training_texts()
    # Short greetings ("Good night") may be written independently by anyone.
    texts = [row["text"] for row in heldout] + [fields[2] for fields in data_lines(DATA / "service_questions.tsv")]
    leaked = [text for text in texts if len(normal(text).split()) >= 5 and f" {normal(text)} " in training]
    assert leaked == [], "held-out text in the training files: reword it there, never here"


def test_service_questions_are_well_formed():
    path = DATA / "service_questions.tsv"
    assert path.read_text("utf-8").splitlines()[0] == "# expected_service_topic\tlanguage\ttext"
    rows = data_lines(path)
    assert len(rows) >= 60
    for n, fields in enumerate(rows, 2):
        assert len(fields) == 3, f"line {n}"
        topic, lang, text = fields
        assert topic and lang in LANGS and text.strip() == text and text, f"line {n}"
    assert {fields[1] for fields in rows} == set(LANGS)


SHEETS = ["old_requests", "old_requests_uz"]


TEXT_HEADERS = {"Motivo", "Murojaat matni"}


def read_sheet(path: Path) -> list[dict[str, str]]:
    """The data rows as dicts by header (Excel writes ';' in some locales, and a BOM)."""
    text = path.read_text("utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;")
    header, *rows = csv.reader(io.StringIO(text, newline=""), dialect)
    assert all(len(row) == len(header) for row in rows), path.name
    return [dict(zip(header, row)) for row in rows]


@pytest.mark.parametrize("name", SHEETS)
def test_sheet_truth_is_consistent(name):
    rows = read_sheet(DATA / f"{name}.csv")
    truth = json.loads((DATA / f"{name}.truth.json").read_text("utf-8"))
    assert truth["file"] == f"{name}.csv"
    n = len(rows)
    every = [r for group in truth["duplicate_groups"] for r in group]
    assert all(1 <= r <= n for r in every + truth["unreadable_rows"] + sum(truth["traps"], []))
    assert len(every) == len(set(every)), "a row belongs to one group at most"
    assert all(len(group) >= 2 and group == sorted(group) for group in truth["duplicate_groups"])
    group_of = {r: i for i, group in enumerate(truth["duplicate_groups"]) for r in group}
    for a, b in truth["traps"]:
        assert a not in group_of or group_of.get(a) != group_of.get(b), f"trap {a},{b} is inside one group"
    unreadable = set(truth["unreadable_rows"])
    assert not unreadable & (set(every) | set(sum(truth["traps"], [])))
    assert len(truth["trap_reasons"]) == len(truth["traps"])


@pytest.mark.parametrize("name", SHEETS)
def test_unreadable_rows_are_exactly_the_rows_without_text(name):
    rows = read_sheet(DATA / f"{name}.csv")
    truth = json.loads((DATA / f"{name}.truth.json").read_text("utf-8"))
    (column,) = TEXT_HEADERS & set(rows[0])
    empty = [n for n, row in enumerate(rows, 1) if not row[column].strip()]
    assert empty == truth["unreadable_rows"]


def test_the_spanish_sheet_has_enough_rows_groups_and_traps():
    rows = read_sheet(DATA / "old_requests.csv")
    truth = json.loads((DATA / "old_requests.truth.json").read_text("utf-8"))
    assert len(rows) >= 130
    assert len(truth["duplicate_groups"]) >= 10 and len(truth["traps"]) >= 5


@pytest.mark.parametrize("name", [f"{s}{ext}" for s in SHEETS for ext in (".csv", ".truth.json")])
def test_the_test_fixtures_are_the_bench_files(name):
    assert (ROOT / "tests" / "fixtures" / "import" / name).read_bytes() == (DATA / name).read_bytes()
