"""Reading which choice a citizen meant.

Telegram sends the pressed button; WhatsApp and the console show a numbered
list, so people answer "2", "2.", the words of the choice, or the words with
typos. ``yes``/``no`` also accept the usual words for them in each language,
alone or opening a longer reply ("no, todavía no me llegó nada": the answer
is "no", and :func:`leading_answer` gives the rest to keep as a comment).
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from flows.textnorm import fold

NUMBER = re.compile(r"^\s*#?\s*(\d{1,2})\s*[.)]?\s*$")
_SYNONYMS = {
    "yes": ["ha", "xa", "hop", "mayli", "roziman", "da", "ага", "si", "sí", "yes", "y", "ok", "okay", "dale", "claro", "ok'", "👍"],
    "no": ["yo'q", "yoq", "yuq", "net", "no", "n", "nope", "нет", "йук", "йўқ"],
}
_SYNONYM_INDEX = {fold(word): key for key, words in _SYNONYMS.items() for word in words}
# Words that open a reply with a clear yes or no, in the five languages;
# single letters ("y", "n") and "ok" are left out: they start too many sentences.
_LEADING = {fold(word): key for key, word_list in {
    "yes": ["yes", "yeah", "yep", "si", "sí", "claro", "dale", "да", "ага", "конечно", "ha", "xa", "hop", "ҳа", "ха", "albatta", "албатта"],
    "no": ["no", "nope", "нет", "неа", "yo'q", "yoq", "yuq", "йўқ", "йук", "йок"],
}.items() for word in word_list}
# "No sé", "не знаю": a doubt, not an answer.
_UNSURE = {fold(word) for word in (
    "se", "sé", "entiendo", "estoy", "know", "sure", "understand", "знаю", "понимаю", "уверен", "уверена",
    "bilmayman", "bilmadim", "tushunmadim", "билмайман", "тушунмадим",
)}
_LEADING_WORD = re.compile(r"^\s*([^\s,.;:!?¡¿()\-—–]+)[\s,.;:!?¡¿()\-—–]*(.*)$", re.DOTALL)
MIN_SCORE = 80


def leading_answer(typed: str) -> tuple[str, str] | None:
    """``("no", "todavía no me llegó nada")`` for a reply that opens with a
    clear yes or no word; None otherwise."""
    match = _LEADING_WORD.match(typed or "")
    if not match:
        return None
    key = _LEADING.get(fold(match.group(1)))
    rest = match.group(2).strip()
    next_word = fold(rest).split(" ", 1)[0] if rest else ""
    if not key or next_word in _UNSURE:
        return None
    return key, rest


def _clean(label: str) -> str:
    return " ".join(fold(label).replace("'", "").split())


def match_choice(typed: str, choices: list[tuple[str, str]]) -> str | None:
    """The key of the choice ``typed`` names, or None.

    ``choices`` are ``(key, label)`` pairs in the order they were shown.
    """
    if not choices or not typed.strip():
        return None
    if number := NUMBER.match(typed):
        index = int(number.group(1)) - 1
        return choices[index][0] if 0 <= index < len(choices) else None
    keys = {key for key, _ in choices}
    synonym = _SYNONYM_INDEX.get(fold(typed.strip()).strip(" .!"))
    if synonym in keys:
        return synonym
    if (leading := leading_answer(typed)) and leading[0] in keys:
        return leading[0]
    wanted = _clean(typed)
    if not wanted:
        return None
    best_key, best_score = None, 0.0
    for key, label in choices:
        score = _score(wanted, _clean(label))
        if score > best_score:
            best_key, best_score = key, score
    return best_key if best_score >= MIN_SCORE else None


def _score(wanted: str, label: str) -> float:
    """How well typed words name a label. A sentence much longer than the
    label is not a choice (it is what the citizen has to say), so only
    whole-label likeness counts, plus typing the start or a part of a label
    ("guliston" for "Guliston tumani")."""
    if not label or len(wanted) > len(label) * 1.5 + 4:
        return 0.0
    score = fuzz.ratio(wanted, label)
    if len(wanted) >= 4 and len(wanted) < len(label):
        score = max(score, fuzz.partial_ratio(wanted, label) - 5)
    return score
