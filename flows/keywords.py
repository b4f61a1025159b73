"""Keyword evidence for the request category of a citizen's message.

The catalogue's keywords are edited by staff, work from the first message in
five languages/scripts, and their decisions are explainable; the learned
classifier (:mod:`flows.classifier`) takes these scores as one of its
features, so a keyword staff add counts at once. Text and keywords go through :func:`flows.textnorm.words` and
:func:`~flows.textnorm.match_key`, so script, accents and apostrophes do not
matter. Each word of the message is then matched against the keywords:

* exact: strength 100;
* stem: a keyword at the start of a longer word (``pasport`` in
  ``pasportimni``), 2 points off per extra letter, at most 10. Keywords of up
  to 4 letters (``gaz``, ``suv``, ``svet``, ``luz``) only count when the rest is
  a known inflectional ending (``gazimiz``, ``света``), so they never fire
  inside unrelated words (``gazeta``, ``svetofor``, ``Svetlana``). Uzbek turns a
  final k/q into g before a vowel (``oylik`` -> ``oyligim``), so keywords of
  5+ letters ending in k also match with g;
* typo: only for words of 5+ letters that matched nothing, the rapidfuzz OSA
  distance (swapping two letters is one edit) to keywords of 5+ letters with
  the same first letter (typos rarely hit it): 1 edit up to 7 letters, 2 up
  to 11, 3 beyond; strength 95 - 10 per edit. An inflected word is compared
  by its first letters with keywords of 6+ letters, and the last compared
  letters must agree, so another form of a stem (``работает``/``работу``) or a
  word merely starting alike (``tardes``/``trade``) is not taken for a typo.

Only the longest keyword matching a word counts (``svetofor`` beats ``svet``),
and only the longest phrase starting at a word (``suv bosimi`` beats
``suv bos``). A keyword written ``!word`` matches nothing: it lets staff stop a
stem firing on a word (``!работае`` keeps "не работает" out of employment).
Multi-word keywords (``tez yordam``, ``gas leak``) match consecutive words;
tokens under 5 letters must match exactly, except a last token of 3-4 letters
which may start its word (``suv bosyapti`` for ``suv bos``; ``tezda yordam``
is not ``tez yordam``).

Each matched keyword (at most one per word and category) is independent
evidence for its categories with probability ``weight * strength / 100``: the
weight grows with the keyword's length (0.76 for three letters to 0.9 for ten:
long stems are specific, short words are not) and is 0.9 for phrases. A
category's score is the noisy-OR of its evidence, 0..100; ties go to the
category listed first.

Speed: all indexes are built in ``__init__``; the per-word analysis (the only
part that calls rapidfuzz) is cached, since citizens' vocabulary repeats a lot.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

from flows.textnorm import fold, match_key, words

__all__ = ["CategoryTerms", "Classification", "KeywordClassifier"]

MAX_CHARS = 8000  # a pasted 10,000-character message is cut here...
MAX_WORDS = 200  # ...and only its first 200 words are looked at
MAX_WORD_LEN = 40
PHRASE_WEIGHT = 0.9


def _endings() -> frozenset[str]:
    """Suffixes that may follow a short (<= 4 letters) keyword.

    Uzbek: plural + possessive + case + particle (suvlarimizdan, gazni, yo'lda);
    Russian case endings (газа, светом, воду); Spanish/English plurals and -ed/-ing.
    """
    uz = product(
        ("", "lar"),
        ("", "im", "imiz", "ing", "ingiz", "i", "si", "m", "miz", "ng", "ngiz"),
        ("", "ni", "ning", "ga", "ka", "qa", "da", "ta", "dan", "tan", "dagi",
         "gacha", "siz", "li", "lik", "day", "dek", "cha", "chi"),
        ("", "mi", "chi", "ham", "dir", "u", "yu", "ku", "da"),
    )
    other = ("a", "u", "e", "i", "y", "om", "ov", "ami", "ah", "am", "oy", "ey",
             "ym", "yh", "yu", "ya", "ye", "s", "es", "ed", "ing", "er", "ers")
    found = {"".join(parts) for parts in uz} | set(other)
    return frozenset(match_key(e) for e in found if e)


ENDINGS = _endings()
EXACT, ENDING, PREFIX, TYPO = range(4)  # how a word matched a phrase token


def _max_edits(length: int) -> int:
    return 1 if length <= 7 else 2 if length <= 11 else 3


def _token_ok(token: str, kind: int, last: bool) -> bool:
    return kind == EXACT or len(token) >= 5 or (last and len(token) >= 3)


@dataclass(frozen=True)
class CategoryTerms:
    """A category and its keywords (any language or script; folded here)."""

    id: str
    keywords: tuple[str, ...]

    def __post_init__(self) -> None:
        raw = (self.keywords,) if isinstance(self.keywords, str) else self.keywords
        folded = dict.fromkeys(
            f for k in raw if (f := ("!" + fold(k[1:])) if k.startswith("!") else fold(k)) not in ("", "!")
        )
        object.__setattr__(self, "keywords", tuple(folded))


@dataclass(frozen=True)
class Classification:
    """The guess: ``category`` is the fallback when the best score is below the
    threshold, while ``top3`` still lists the best candidates (to offer them).
    ``intent``: ``request`` (a need to handle), ``question`` (about a service,
    a visit or the bot) or ``other`` (a greeting, thanks, off-topic)."""

    category: str
    score: float  # 0..100, rounded to 1 decimal
    top3: tuple[tuple[str, float], ...]
    intent: str = "request"
    scores: dict[str, float] | None = None  # every category's score, where known


class KeywordClassifier:
    """Built once per catalogue; ``classify`` is then cheap and thread-safe.

    ``threshold`` (0..100): with the default of 60 one matched keyword is
    enough, unless it is a long word with three typos or a weak phrase match.
    ``cache_size`` bounds the per-word cache (0 disables it).
    """

    def __init__(
        self,
        categories: Iterable[CategoryTerms],
        fallback: str = "other",
        threshold: float = 60.0,
        *,
        cache_size: int = 50_000,
    ) -> None:
        self.fallback = fallback
        self.threshold = threshold
        self._cache_size = cache_size
        self._cache: dict[str, tuple] = {}
        self._ids: list[str] = []
        self._singles: dict[str, list[str]] = {}  # key (or k->g alias) -> category ids
        self._weight: dict[str, float] = {}
        self._tokens: dict[str, str] = {}  # phrase token (or alias) -> token
        self._phrases: dict[str, list[tuple[tuple[str, ...], str, list[str]]]] = {}
        phrase_cats: dict[tuple[str, ...], list[str]] = {}
        blocked: set[str] = set()
        categories = tuple(categories)
        self._terms = tuple((cat.id, cat.keywords) for cat in categories)
        for cat in categories:
            if cat.id not in self._ids:
                self._ids.append(cat.id)
            for keyword in cat.keywords:
                if keyword.startswith("!"):
                    blocked.update(match_key(w) for w in keyword[1:].split())
                    continue
                toks = tuple(t for t in (match_key(w) for w in keyword.split()) if t)
                if len(toks) == 1:
                    ids = self._singles.setdefault(toks[0], [])
                elif toks:
                    ids = phrase_cats.setdefault(toks, [])
                    self._tokens.update((t, t) for t in toks)
                else:
                    continue
                if cat.id not in ids:
                    ids.append(cat.id)
        for toks, ids in phrase_cats.items():
            self._phrases.setdefault(toks[0], []).append((toks, " ".join(toks), ids))
        canonical = sorted({*self._singles, *self._tokens})
        for key in [k for k in self._singles if len(k) >= 5 and k.endswith("k")]:
            self._singles.setdefault(key[:-1] + "g", self._singles[key])
        for key in [k for k in self._tokens if len(k) >= 5 and k.endswith("k")]:
            self._tokens.setdefault(key[:-1] + "g", key)
        for key in blocked - {""}:
            self._singles[key] = []
        for key in self._singles:
            self._weight[key] = min(0.9, 0.7 + 0.02 * len(key))
        self._order = {c: i for i, c in enumerate(self._ids)}
        self._max_key = max(map(len, [*self._singles, *self._tokens]), default=0)
        # typo candidates: first letter -> [(length, keys, max edits)] by length
        groups: dict[tuple[str, int], list[str]] = {}
        for key in canonical:
            if len(key) >= 5 and key not in blocked:
                groups.setdefault((key[0], len(key)), []).append(key)
        self._fuzzy: dict[str, list[tuple[int, list[str], int]]] = {}
        for (first, length), keys in sorted(groups.items()):
            self._fuzzy.setdefault(first, []).append((length, keys, _max_edits(length)))

    @property
    def categories(self) -> tuple[str, ...]:
        """The category ids, in catalogue order."""
        return tuple(self._ids)

    def terms(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Each category's keywords, as given (folded)."""
        return self._terms

    @classmethod
    def from_catalog(cls, catalog: dict, **options) -> "KeywordClassifier":
        """Build from the parsed ``categories.json`` shape (keywords per language)."""
        items = catalog.get("categories", ()) if isinstance(catalog, dict) else catalog
        terms = []
        for item in items:
            keywords = item.get("keywords") or ()
            if isinstance(keywords, dict):
                keywords = [k for lang in keywords.values() for k in lang]
            terms.append(CategoryTerms(item["id"], tuple(keywords)))
        return cls(terms, **options)

    def _analyse(self, word: str) -> tuple[tuple[tuple[str, float], ...], dict[str, tuple[float, int]]]:
        """Single-keyword hits (the longest, else the closest typos) and
        phrase-token hits ``{token: (strength, kind)}`` for one word."""
        n = len(word)
        singles, tokens = self._singles, self._tokens
        best: tuple[str, float] | None = None
        toks: dict[str, tuple[float, int]] = {}
        for i in range(1, min(n, self._max_key) + 1):
            stem = word[:i]
            if stem not in singles and stem not in tokens:
                continue
            rest = n - i
            kind = EXACT if not rest else ENDING if word[i:] in ENDINGS else PREFIX
            strength = 100.0 - min(10, 2 * rest)
            if stem in singles and (kind != PREFIX or i >= 5):
                best = (stem, strength)
            if stem in tokens and (kind != PREFIX or i >= 3):
                toks[tokens[stem]] = (strength, kind)
        if best is not None or toks or n < 5:
            return ((best,) if best else ()), toks
        found: dict[str, int] = {}
        for length, keys, edits in self._fuzzy.get(word[0], ()):
            if length > n + (1 if length <= 10 else 2):
                break
            if abs(n - length) <= edits:
                for key, dist, _ in process.extract(word, keys, scorer=OSA.distance, score_cutoff=edits, limit=None):
                    found[key] = min(dist, found.get(key, dist))
            if n > length >= 6:
                query = word[:length]
                for key, dist, _ in process.extract(query, keys, scorer=OSA.distance, score_cutoff=edits, limit=None):
                    if key[-1] == query[-1]:
                        found[key] = min(dist, found.get(key, dist))
        least = min((d for k, d in found.items() if k in singles), default=None)
        hits = tuple((k, 95.0 - 10 * d) for k, d in found.items() if k in singles and d == least)
        for key, dist in found.items():
            if key in tokens:
                toks[key] = (95.0 - 10 * dist, TYPO)
        return hits, toks

    def _lookup(self, word: str) -> tuple:
        hit = self._cache.get(word)
        if hit is None:
            hit = self._analyse(word)
            if self._cache_size:
                if len(self._cache) >= self._cache_size:
                    self._cache.clear()
                self._cache[word] = hit
        return hit

    def classify(self, text: str) -> Classification:
        """The category of ``text``; the fallback, score 0, if nothing matched."""
        keys = [match_key(w)[:MAX_WORD_LEN] for w in words((text or "")[:MAX_CHARS])]
        analysed = [self._lookup(k) for k in keys[:MAX_WORDS] if k]
        evidence: dict[str, dict[str, float]] = {}

        def add(cats: Iterable[str], key: str, p: float) -> None:
            for cat in cats:
                found = evidence.setdefault(cat, {})
                if found.get(key, 0.0) < p:
                    found[key] = p

        for i, (singles, toks) in enumerate(analysed):
            per_word: dict[str, tuple[float, str]] = {}  # one piece of evidence per word
            for key, strength in singles:
                p = self._weight[key] * strength / 100
                for cat in self._singles[key]:
                    if per_word.get(cat, (0.0,))[0] < p:
                        per_word[cat] = (p, key)
            for cat, (p, key) in per_word.items():
                add((cat,), key, p)
            matched: list[tuple[str, list[str], float]] = []
            for tok, (strength, kind) in toks.items():
                for phrase, name, cats in self._phrases.get(tok, ()):
                    last = len(phrase) - 1
                    if i + last >= len(analysed) or not _token_ok(tok, kind, False):
                        continue
                    weakest = strength
                    for j in range(1, last + 1):
                        hit = analysed[i + j][1].get(phrase[j])
                        if hit is None or not _token_ok(phrase[j], hit[1], j == last):
                            break
                        weakest = min(weakest, hit[0])
                    else:
                        matched.append((name, cats, weakest))
            if matched:  # the longest phrase starting here wins ("suv bosimi" over "suv bos")
                longest = max(len(name) for name, _, _ in matched)
                for name, cats, weakest in matched:
                    if len(name) == longest:
                        add(cats, name, PHRASE_WEIGHT * weakest / 100)

        scores: dict[str, float] = {}
        for cat, found in evidence.items():
            miss = 1.0
            for p in found.values():
                miss *= 1.0 - p
            scores[cat] = round(100.0 * (1.0 - miss), 1)
        return self._decide(scores)

    def _decide(self, scores: dict[str, float]) -> Classification:
        order = self._order
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order))))
        if not ranked or ranked[0][1] <= 0:
            ranked = [(self.fallback, 0.0)] if self.fallback in order else []
        seen = {c for c, _ in ranked}
        ranked += [(c, 0.0) for c in self._ids if c not in seen]
        top3 = tuple(ranked[:3])
        if top3 and top3[0][1] > 0 and top3[0][1] >= self.threshold:
            return Classification(top3[0][0], top3[0][1], top3, scores=scores)
        return Classification(self.fallback, scores.get(self.fallback, 0.0), top3, scores=scores)
