"""The bot's texts: every language has every English key, the same
placeholders, no empty values, the right script, and short button labels."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from flows import i18n

TEXTS = Path(i18n.__file__).with_name("texts")
EXPECTED = ["uz", "uz-Cyrl", "ru", "es"]
TRANSLATIONS = sorted({p.name for p in TEXTS.iterdir() if p.is_dir()} - {"en"} | set(EXPECTED))
AREAS = sorted(p.stem for p in (TEXTS / "en").glob("*.json"))
ALL = ["en", *TRANSLATIONS]

CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LATIN_WORD = re.compile(r"[A-Za-z]+")
# Latin words that may appear inside Cyrillic texts: the bot's name and the
# example tracking code KX7-4MP.
LATIN_ALLOWED = {"onewindow", "KX", "MP"}
# Staff texts also show what caseworkers type or read as is: slash commands
# (/reopen, /merge), the usage words CODE, PRIMARY, ID and remove, the time zone UTC,
# /visit's words and its date and time pattern (typed as shown: 2026-12-08 09:00-13:00),
# and /broadcast's: its audience terms and the language codes its texts are marked with.
STAFF_LATIN_ALLOWED = LATIN_ALLOWED | {"CODE", "PRIMARY", "ID", "remove", "UTC", "add", "list", "move", "cancel", "show", "came", "limit",
                                       "YYYY", "MM", "DD", "HH", "N",
                                       "all", "place", "lang", "category", "subscribers", "channels", "numbers", "telegram", "at",
                                       "urgent", "fallback", "confirm", "status", "CHAT", "uz", "Cyrl", "ru", "es", "en"}
SLASH_COMMAND = re.compile(r"/[a-z_]+")
FANCY_APOSTROPHES = "ʻʼ‘’`´"

BUTTON_KEYS = {
    "confirm_send", "confirm_change", "confirm_cancel", "consent_yes", "consent_no",
    "back", "back_to_menu", "settings_language", "settings_place", "place_not_listed",
    "mydata_send_file", "mydata_forget", "forget_yes", "forget_no",
}
MAX_LABEL = 30


def load_area(language: str, area: str) -> dict[str, str]:
    path = TEXTS / language / f"{area}.json"
    assert path.exists(), f"missing {language}/{path.name}"
    try:
        data = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as error:
        pytest.fail(f"{language}/{path.name} is not valid JSON: {error}")
    assert isinstance(data, dict), f"{language}/{path.name} must be a JSON object"
    return data


def load(language: str) -> dict[str, str]:
    """Every area of ``language``, merged; a key defined in two areas is a mistake."""
    merged: dict[str, str] = {}
    for area in AREAS:
        data = load_area(language, area)
        twice = sorted(merged.keys() & data.keys())
        assert not twice, f"{language}: keys defined in more than one file: {twice}"
        merged.update(data)
    return merged


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def literal(template: str) -> str:
    """The template without its placeholders."""
    return "".join(text for text, _, _, _ in string.Formatter().parse(template))


def labels(texts: dict[str, str]) -> list[str]:
    return sorted(k for k in texts if (k.startswith("menu_") and k != "menu_question") or k in BUTTON_KEYS)


EN = load("en")


@pytest.mark.parametrize("language", ALL)
def test_valid_json_of_strings(language):
    texts = load(language)
    bad = sorted(k for k, v in texts.items() if not isinstance(v, str))
    assert not bad, f"{language}: values that are not strings: {bad}"


@pytest.mark.parametrize("language", TRANSLATIONS)
@pytest.mark.parametrize("area", AREAS)
def test_same_keys_as_english(language, area):
    texts, english = load_area(language, area), load_area("en", area)
    missing = sorted(english.keys() - texts.keys())
    extra = sorted(texts.keys() - english.keys())
    assert not missing and not extra, f"{language}/{area}.json: missing keys {missing}, extra keys {extra}"


@pytest.mark.parametrize("language", ALL)
def test_no_stray_text_files(language):
    stray = sorted(p.name for p in (TEXTS / language).glob("*.json") if p.stem not in AREAS)
    assert not stray, f"{language}: text files with no English counterpart: {stray}"


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_same_placeholders_as_english(language):
    texts = load(language)
    wrong = {
        key: (sorted(placeholders(texts[key])), sorted(placeholders(en)))
        for key, en in EN.items()
        if key in texts and placeholders(texts[key]) != placeholders(en)
    }
    assert not wrong, f"{language}: placeholders differ (got, expected): {wrong}"


@pytest.mark.parametrize("language", ALL)
def test_no_empty_values(language):
    empty = sorted(k for k, v in load(language).items() if not str(v).strip())
    assert not empty, f"{language}: empty texts {empty}"


@pytest.mark.parametrize("language", ["uz-Cyrl", "ru"])
def test_cyrillic_texts_are_cyrillic(language):
    texts = load(language)
    no_cyrillic = sorted(k for k, v in texts.items() if re.search(r"[^\W\d_]", literal(v)) and not CYRILLIC.search(v))
    assert not no_cyrillic, f"{language}: texts without Cyrillic letters: {no_cyrillic}"
    latin = {
        k: sorted(set(LATIN_WORD.findall(SLASH_COMMAND.sub("", literal(v)))) - STAFF_LATIN_ALLOWED)
        if k.startswith("staff_") else sorted(set(LATIN_WORD.findall(literal(v))) - LATIN_ALLOWED)
        for k, v in texts.items()
    }
    latin = {k: words for k, words in latin.items() if words}
    assert not latin, f"{language}: Latin words in a Cyrillic text: {latin}"


def test_uzbek_cyrillic_uses_uzbek_letters():
    joined = "".join(load("uz-Cyrl").values())
    for letter in "ўқғҳ":
        assert letter in joined, f"uz-Cyrl never uses {letter}"


@pytest.mark.parametrize("language", ["uz", "es", "en"])
def test_latin_texts_have_no_cyrillic(language):
    found = {k: v for k, v in load(language).items() if CYRILLIC.search(v)}
    assert not found, f"{language}: Cyrillic letters in {sorted(found)}"


def test_uzbek_latin_uses_ascii_apostrophes():
    texts = load("uz")
    fancy = {k: sorted({c for c in v if c in FANCY_APOSTROPHES}) for k, v in texts.items()}
    fancy = {k: chars for k, chars in fancy.items() if chars}
    assert not fancy, f"uz: use ASCII ' for o'/g' and the tutuq belgisi, found {fancy}"
    joined = " ".join(texts.values())
    assert "o'" in joined and "g'" in joined


@pytest.mark.parametrize("language", ALL)
def test_every_key_formats(language):
    texts = load(language)
    for key in EN:
        values = {name: f"<{name}>" for name in placeholders(EN[key])}
        rendered = i18n.text(language, key, **values)
        assert rendered.strip(), f"{language}/{key} renders empty"
        if key in texts:
            for name in values:
                assert f"<{name}>" in rendered, f"{language}/{key} drops {{{name}}}"
        assert "{" not in rendered and "}" not in rendered, f"{language}/{key}: {rendered!r}"


@pytest.mark.parametrize("language", ALL)
def test_button_labels_are_short(language):
    texts = load(language)
    long = {k: len(texts[k]) for k in labels(texts) if len(texts[k]) > MAX_LABEL}
    assert not long, f"{language}: button labels longer than {MAX_LABEL} characters: {long}"


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_menu_labels_keep_the_emoji(language):
    texts = load(language)
    differ = {}
    for key in labels(EN):
        en_prefix = EN[key].split(" ", 1)[0] if not EN[key][:1].isalnum() else ""
        if en_prefix and key in texts and not texts[key].startswith(en_prefix + " "):
            differ[key] = (texts[key], en_prefix)
    assert not differ, f"{language}: labels lost their emoji prefix: {differ}"


def test_example_code_kept():
    for language in ALL:
        texts = load(language)
        for key in ("ask_code", "not_a_code"):
            assert "KX7-4MP" in texts[key], f"{language}/{key} must show the example code KX7-4MP"


@pytest.mark.parametrize("language, forms", [
    # count: form (0 one, 1 few/other, 2 many), by CLDR's cardinal rules
    ("ru", {0: 2, 1: 0, 2: 1, 4: 1, 5: 2, 11: 2, 12: 2, 14: 2, 15: 2, 21: 0, 22: 1, 25: 2, 101: 0, 111: 2, 112: 2, 114: 2, 122: 1}),
    ("uz", {0: 0, 1: 0, 2: 0, 5: 0, 11: 0}),
    ("uz-Cyrl", {1: 0, 3: 0, 21: 0}),
    ("en", {0: 1, 1: 0, 2: 1, 11: 1, 21: 1}),
    ("es", {1: 0, 2: 1, 100: 1, -1: 0}),
])
def test_plural_forms_follow_each_languages_rules(language, forms):
    from flows.i18n import plural_form

    assert {n: plural_form(language, n) for n in forms} == forms
