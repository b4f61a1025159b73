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

from rapidfuzz import fuzz, process

from flows.textnorm import fold, words

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
    """A best guess before the citizen has chosen: what the message itself
    says (its script, then words only one language uses), else the hint the
    channel gives (Telegram's app language, the country of a WhatsApp number).

    The text comes first because the hint is often wrong for the person
    writing: phones set to English in Tashkent, Uzbek numbers writing Russian."""
    return language_in_text(sample) or supported(hint)


def language_in_text(sample: str) -> str | None:
    """The language a message is plainly written in, or None when it does not say."""
    if _UZBEK_CYRILLIC.search(sample):
        return "uz-Cyrl"
    tokens = set(words(sample))
    if _CYRILLIC.search(sample):
        return "uz-Cyrl" if tokens & _UZBEK_WORDS else "ru"
    if _SPANISH.search(sample):
        return "es"
    hits = {code: len(tokens & found) for code, found in _LATIN_WORDS.items()}
    best = max(hits.values())
    leaders = [code for code, n in hits.items() if n == best]
    return leaders[0] if best and len(leaders) == 1 else None


def asks_for_language(typed: str) -> bool:
    """"change language", "сменить язык", "tilni o'zgartirish", "otro idioma"…"""
    return " ".join(words(typed)) in _CHANGE_LANGUAGE


def named_language(typed: str) -> str | None:
    """A message that is nothing but a language's name, typos allowed
    ("russkiy", "englsh", "o'zbekcha", "ўзбекча")."""
    if (code := language_from_words(typed)) is not None:
        return code
    folded = " ".join(words(typed))
    if len(folded) < 5 or " " in folded:
        return None
    found = process.extractOne(folded, list(_LANGUAGE_INDEX), scorer=fuzz.ratio, score_cutoff=85)
    return _LANGUAGE_INDEX[found[0]] if found else None


# Words that say which language a message is in (folded, so Cyrillic
# Uzbek written without ў/қ/ғ/ҳ is found through the same list). Only words
# one language uses: "gaz", "svet" or "no" would say nothing.
_UZBEK_WORDS = {fold(w) for w in (
    "assalomu alaykum assalomu-alaykum salom kerak iltimos rahmat raxmat yoq yo'q qanday qachon qayerda nima "
    "qilish menga bizga bizning bizda uyimiz uyim mahalla mahallamiz qishloq qishlog'imiz ishlamayapti "
    "kelmayapti yordam bering berish olish uchun hujjat hujjatlar ham emas bormi keladimi kerakmi "
    "yo'l ko'cha suvi elektr chiroq hali hech bola bolalar nafaqa ariza").split()}
_LATIN_WORDS = {
    "uz": _UZBEK_WORDS,
    "ru": {fold(w) for w in (
        "privet zdravstvuyte zdravstvujte zdrastvuyte pozhaluysta pozhalujsta nuzhno nado ne rabotaet "
        "u nas menya spasibo kogda gde pochemu uzhe nedelyu net sveta vody dengi pomogite").split()} - {"ne", "u", "net"},
    "es": {fold(w) for w in (
        "hola buenas buenos dia dias tardes noches necesito quiero gracias favor calle barrio tengo puedo "
        "donde cuando porque senor senora ayuda tramite hijo hijos vecino vecinos agua luz que hace semana "
        "nos estamos esta").split()},
    "en": {fold(w) for w in (
        "hello hi good morning evening i need want please thank thanks my our street water the there "
        "is how when where help request we have has no been week since").split()} - {"no"},
}
_CHANGE_LANGUAGE = {" ".join(words(p)) for p in (
    "language", "change language", "change the language", "other language", "another language", "switch language",
    "til", "tilni o'zgartirish", "tilni ozgartirish", "tilni almashtirish", "boshqa til", "til o'zgartirish",
    "тилни ўзгартириш", "бошқа тил", "тил",
    "язык", "сменить язык", "поменять язык", "изменить язык", "другой язык", "смена языка",
    "idioma", "cambiar idioma", "cambiar el idioma", "otro idioma", "cambiar de idioma", "lenguaje",
)}
