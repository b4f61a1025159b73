"""Texts in every language the bot speaks, and guessing a language.

Texts live in ``flows/texts/<language>/<area>.json`` (``citizen.json``,
``staff.json``, one file per part of the product), merged per language; a key
missing in a language falls back to English so a citizen always gets an answer.

A text that depends on a number holds its plural forms separated by ``|``
and is given ``count``: "{count} request|{count} requests" in English, three
forms in Russian (1 обращение, 2 обращения, 5 обращений), one in Uzbek
(the noun after a number stays singular: 5 ta murojaat).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from flows.textnorm import fold

LANGUAGES: dict[str, str] = {
    "uz": "O'zbekcha",
    "uz-Cyrl": "Ўзбекча",
    "ru": "Русский",
    "es": "Español",
    "en": "English",
}
DEFAULT_LANGUAGE = "en"
TEXTS = Path(__file__).with_name("texts")

# Words a citizen may type to pick a language (folded; see flows.textnorm).
_LANGUAGE_WORDS = {
    "uz": ["ozbekcha", "o'zbekcha", "uzbek", "ozbek", "o'zbek", "uz", "lotin", "latin", "uzbekcha", "узбекский"],
    "uz-Cyrl": ["kirill", "kirillcha", "cyrillic", "krill"],
    "ru": ["russkiy", "russkii", "russian", "rus", "ruscha", "ru", "po-russki", "ruso"],
    "es": ["espanol", "spanish", "castellano", "es", "ispancha", "ispanskiy"],
    "en": ["english", "ingliz", "inglizcha", "en", "ingles", "angliyskiy", "angliiskii"],
}
_LANGUAGE_INDEX = {fold(word): code for code, words in _LANGUAGE_WORDS.items() for word in words}
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_UZBEK_CYRILLIC = re.compile(r"[ўқғҳЎҚҒҲ]")
_SPANISH = re.compile(r"[ñáéíóú¿¡]", re.IGNORECASE)


@cache
def _texts(language: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((TEXTS / language).glob("*.json")) if language in LANGUAGES else ():
        merged.update(json.loads(path.read_text("utf-8")))
    return merged


def text(language: str | None, key: str, **values: object) -> str:
    """The text ``key`` in ``language`` with ``values`` filled in."""
    template = _texts(language or DEFAULT_LANGUAGE).get(key)
    if template is None:
        language, template = DEFAULT_LANGUAGE, _texts(DEFAULT_LANGUAGE).get(key)
    if template is None:
        raise KeyError(f"no text {key!r}")
    if "|" in template and isinstance(values.get("count"), int):
        forms = template.split("|")
        template = forms[min(plural_form(language or DEFAULT_LANGUAGE, values["count"]), len(forms) - 1)]
    return template.format(**values) if values else template


def plural_form(language: str, count: int) -> int:
    """Which plural form a number takes (CLDR's rules for cardinals): 0 for
    "one", 1 for "few" (or "other" where there is no "few"), 2 for "many"."""
    n = abs(count)
    if language == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return 0
        return 1 if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else 2
    if language.startswith("uz"):
        return 0
    return 0 if n == 1 else 1


def supported(language: str | None) -> str | None:
    """Map a language tag (``ru-RU``, ``uz``, ``es-AR``, ``uz-Cyrl``) to one we speak."""
    if not language:
        return None
    if language in LANGUAGES:
        return language
    tag = language.replace("_", "-").lower()
    if tag.startswith("uz") and "cyrl" in tag:
        return "uz-Cyrl"
    return next((code for code in LANGUAGES if tag.split("-")[0] == code), None)


def language_from_words(typed: str) -> str | None:
    """A language named in words: "русский", "espanol", "ўзбекча", "3"…"""
    raw = typed.strip()
    for code, label in LANGUAGES.items():
        if raw.casefold() == label.casefold():
            return code
    if raw.casefold() in {"ўзбекча", "ўзбек", "узбекча"}:
        return "uz-Cyrl"  # the script itself says which Uzbek is wanted
    return _LANGUAGE_INDEX.get(fold(raw))


def guess_language(sample: str, hint: str | None = None) -> str | None:
    """A best guess before the citizen has chosen: the app's language setting
    first, then the script the message is written in."""
    if chosen := supported(hint):
        return chosen
    if _UZBEK_CYRILLIC.search(sample):
        return "uz-Cyrl"
    if _CYRILLIC.search(sample):
        return "ru"
    if _SPANISH.search(sample):
        return "es"
    return None
