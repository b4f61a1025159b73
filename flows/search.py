"""Finding requests by what staff remember of them.

Staff type a word as they would say it — ``gaz`` for a request written
``газ йўқ``, ``elektr`` for ``electricidad``, ``guliston`` for a request from
Гулистон, ``KX7-4MP`` for a code — and with typos. Both sides go through
:func:`flows.textnorm.fold` and :func:`~flows.textnorm.match_key` (one Latin
form for every script), then each typed word is matched against the words of
the request, its place and its topic: exactly, as the start of a word, or
closely enough to be a typo. A request is found when every typed word is;
the best matches come first, the newest first among equals.
"""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, process

from flows.textnorm import match_key, words

EXACT, PREFIX = 100.0, 92.0
MIN_PREFIX = 3  # "gaz" finds "gazi"; "ga" finds nothing by itself
MIN_TYPO_LENGTH = 4  # shorter words are too alike to forgive a typo ("suv"/"sut")
TYPO_SCORE = 80.0


def terms(text: str) -> set[str]:
    """The searchable forms of the words in ``text``."""
    return {match_key(word) for word in words(text)} - {""}


def word_score(wanted: str, document: set[str]) -> float:
    """How well one typed word is found among a document's words (0 = not at all)."""
    if wanted in document:
        return EXACT
    if len(wanted) >= MIN_PREFIX and any(word.startswith(wanted) for word in document):
        return PREFIX
    if len(wanted) < MIN_TYPO_LENGTH:
        return 0.0
    found = process.extractOne(wanted, document, scorer=fuzz.ratio, score_cutoff=TYPO_SCORE)
    return found[1] if found else 0.0


def score(query: str, document: set[str]) -> float:
    """The mean of the typed words' scores, or 0 when any word is missing."""
    wanted = terms(query)
    if not wanted:
        return 0.0
    scores = [word_score(word, document) for word in wanted]
    return 0.0 if min(scores) == 0 else sum(scores) / len(scores)


def rank(query: str, documents: Iterable[tuple[object, set[str]]]) -> list[tuple[object, float]]:
    """``documents`` as ``(key, terms)``, newest first; the ones that match
    ``query``, best first (a stable sort keeps the newest first among equals)."""
    found = [(key, s) for key, document in documents if (s := score(query, document)) > 0]
    return sorted(found, key=lambda pair: -pair[1])
