"""The labelled messages the classifier learns from (``flows/examples/``).

A broken row would silently teach the model nonsense or stop it from starting,
so the files' shape is checked here: three columns, known categories, intents
and languages, no message twice, the right script, and enough messages of
every category in every language that none of them is learnt from a handful.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from flows import i18n
from storage.seed import read_seed

EXAMPLES = Path(i18n.__file__).with_name("examples")
HEADER = "# category\tintent\ttext"
CATEGORIES = {entry["id"] for entry in read_seed("categories.json")["categories"]}
INTENTS = {"request", "question", "other"}
LANGUAGES = list(i18n.LANGUAGES)

# The main file of each language: at least this many messages, and at least
# MIN_PER_CATEGORY of every category (other files of a language, such as
# ``uz.catalogue.tsv``, only have to be well formed).
MIN_PER_LANGUAGE = {"uz": 400, "uz-Cyrl": 250, "ru": 330, "es": 400, "en": 250}
MIN_PER_CATEGORY = 15
MIN_TOTAL = 1700

CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LATIN = re.compile(r"[A-Za-z]")


def rows(path: Path) -> list[tuple[int, str, str, str]]:
    """(line number, category, intent, text) of every data row; fails on a malformed one."""
    found = []
    for number, line in enumerate(path.read_text("utf-8").split("\n"), 1):
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        assert len(parts) == 3, f"{path.name}:{number}: expected 3 tab-separated columns, got {len(parts)}"
        category, intent, text = parts
        assert category in CATEGORIES, f"{path.name}:{number}: unknown category {category!r}"
        assert intent in INTENTS, f"{path.name}:{number}: unknown intent {intent!r}"
        assert text.strip() and text == text.strip(), f"{path.name}:{number}: empty text or stray spaces"
        assert "\r" not in line, f"{path.name}:{number}: carriage return"
        found.append((number, category, intent, text))
    return found


def main_file(language: str) -> Path:
    return EXAMPLES / f"{language}.tsv"


def test_every_language_has_its_file_and_no_file_has_an_unknown_language():
    for language in LANGUAGES:
        assert main_file(language).exists(), f"missing flows/examples/{language}.tsv"
    for path in EXAMPLES.glob("*.tsv"):
        assert path.name.split(".")[0] in LANGUAGES, f"{path.name}: the name must start with a language code"


@pytest.mark.parametrize("language", LANGUAGES)
def test_main_file_starts_with_the_column_header(language):
    first = main_file(language).read_text("utf-8").split("\n", 1)[0]
    assert first == HEADER


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.tsv")), ids=lambda path: path.name)
def test_rows_are_well_formed(path):
    found = rows(path)
    assert found, f"{path.name} has no rows"
    for number, category, intent, _ in found:
        if intent == "other":
            assert category == "other", f"{path.name}:{number}: greetings and small talk belong to 'other'"


def test_no_message_is_written_twice():
    seen: dict[str, str] = {}
    for path in sorted(EXAMPLES.glob("*.tsv")):
        for number, _, _, text in rows(path):
            key = " ".join(text.casefold().split())
            assert key not in seen, f"{path.name}:{number}: {text!r} already at {seen[key]}"
            seen[key] = f"{path.name}:{number}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_category_and_intent_is_well_represented(language):
    found = rows(main_file(language))
    assert len(found) >= MIN_PER_LANGUAGE[language], f"{language}: only {len(found)} messages"
    per_category = Counter(category for _, category, _, _ in found)
    thin = {category: per_category[category] for category in CATEGORIES if per_category[category] < MIN_PER_CATEGORY}
    assert not thin, f"{language}: categories with fewer than {MIN_PER_CATEGORY} messages: {thin}"
    intents = Counter(intent for _, _, intent, _ in found)
    assert intents["question"] >= 0.12 * len(found), f"{language}: too few questions ({intents['question']})"
    assert intents["other"] >= 0.05 * len(found), f"{language}: too few greetings and small talk ({intents['other']})"
    assert intents["request"] >= 0.6 * len(found), f"{language}: too few requests ({intents['request']})"


def test_enough_messages_overall():
    total = sum(len(rows(main_file(language))) for language in LANGUAGES)
    assert total >= MIN_TOTAL


@pytest.mark.parametrize("language", LANGUAGES)
def test_messages_are_in_the_script_of_their_file(language):
    """Uzbek Cyrillic is Cyrillic; Uzbek Latin, Spanish and English never are.
    Russian may be typed in Latin letters, as many people do."""
    for number, _, _, text in rows(main_file(language)):
        where = f"{language}.tsv:{number}: {text!r}"
        if language == "uz-Cyrl":
            assert CYRILLIC.search(text) or not LATIN.search(text), where
        elif language in ("uz", "es", "en"):
            assert not CYRILLIC.search(text), where
