"""Texts in every language the bot speaks, and guessing a language.

Texts live in ``flows/texts/<language>/<area>.json`` (``citizen.json``,
``staff.json``, one file per part of the product), merged per language; a key
missing in a language falls back to English so a citizen always gets an answer.
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
    template = _texts(language or DEFAULT_LANGUAGE).get(key) or _texts(DEFAULT_LANGUAGE).get(key)
    if template is None:
        raise KeyError(f"no text {key!r}")
    return template.format(**values) if values else template


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
